#include "deeplab/models/backbones/axial_resnet.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/models/backbones/stacked_decoder.h"
#include "deeplab/models/layers/axial_attention.h"

namespace deeplab::models {

namespace {
constexpr int kLastStage = 5;
constexpr int kScheduleStages = 4;  // deeplab2's num_stages for the drop-path schedule

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

void check(const AxialResNetOptions& o) {
  const std::string& t = o.type();
  if (t != "resnet" && t != "resnet_beta" && t != "wider_resnet") {
    throw Error("axial resnet: unknown type '" + t + "'; expected resnet, resnet_beta or wider_resnet");
  }
  if (o.blocks().size() != 4) throw Error("axial resnet: expected 4 stage lengths (res2..res5)");
  if (!is_power_of_two(o.output_stride())) throw Error("axial resnet: the output stride must be a power of 2");
  if (o.drop_path_schedule() != "linear" && o.drop_path_schedule() != "constant") {
    throw Error("axial resnet: unknown drop-path schedule '" + o.drop_path_schedule() +
                "'; expected linear or constant");
  }
}

Chain inception_stem(double width) {
  const auto narrow = static_cast<int64_t>(64 * width), wide = static_cast<int64_t>(128 * width);
  Chain stem;
  stem->push_back(conv_bn_act(ConvBnActOptions(3, narrow, 3).stride(2)));
  stem->push_back(conv_bn_act(ConvBnActOptions(narrow, narrow, 3)));
  stem->push_back(conv_bn_act(ConvBnActOptions(narrow, wide, 3).activation("")));
  return stem;
}
}  // namespace

// deeplab2's get_drop_path_keep_prob for a unit at ResNet stride `stride`.
double axial_unit_keep(const AxialResNetOptions& o, int64_t stride) {
  if (stride < o.drop_path_beyond_stride()) return 1.0;
  if (o.drop_path_schedule() == "constant") return o.drop_path_keep();
  const double stage = std::round(std::log2(static_cast<double>(stride)) - 1.0);
  return 1.0 - (1.0 - o.drop_path_keep()) * stage / kScheduleStages;
}

const std::vector<std::string>& axial_resnet_instance_names() {
  static const std::vector<std::string> names = {"axial_resnet_s",  "axial_resnet_l",         "axial_deeplab_s",
                                                 "axial_deeplab_l", "resnet50_beta",          "swidernet",
                                                 "axial_swidernet", "max_deeplab_s_backbone", "max_deeplab_l_backbone"};
  return names;
}

// axial_resnet_instances.py, each an override of its parent's settings.
AxialResNetOptions axial_resnet_instance(const std::string& name) {
  AxialResNetOptions o;
  const bool small = name == "axial_resnet_s" || name == "axial_deeplab_s";
  if (name == "axial_resnet_s" || name == "axial_resnet_l" || name == "axial_deeplab_s" || name == "axial_deeplab_l") {
    return o.type(name.rfind("axial_deeplab", 0) == 0 ? "resnet_beta" : "resnet")
        .width_multiplier(small ? 0.5 : 1.0)
        .axial_beyond_stride(2);
  }
  if (name == "resnet50_beta") return o.type("resnet_beta").axial_beyond_stride(0);
  if (name == "max_deeplab_s_backbone") return o.type("resnet_beta").axial_beyond_stride(16);
  const bool wide = name == "swidernet" || name == "axial_swidernet" || name == "max_deeplab_l_backbone";
  if (!wide) throw Error("axial resnet: unknown instance '" + name + "'");
  o.type("wider_resnet").blocks({3, 6, 3, 3}).drop_path_beyond_stride(4).axial_beyond_stride(0);
  if (name == "swidernet") return o;
  o.axial_beyond_stride(16).attention_expansion(4).key_expansion(2).value_expansion(4);
  // MaX-DeepLab-L's backbone: Axial-SWideRNet with one decoder stack.
  return name == "max_deeplab_l_backbone" ? o.decoder_stacks(1) : o;
}

AxialResNetImpl::AxialResNetImpl(const AxialResNetOptions& o) : options_(o) {
  check(o);
  if (o.transformer_beyond_stride() > 0) {
    memory_ = register_parameter("memory", torch::empty({o.memory_slots(), o.memory_channels()}));
    truncated_normal_(memory_, 1.0);
  }
  build_stem();
  const bool wide = o.type() == "wider_resnet";
  if (!wide) specs_.push_back({"res1", in_channels_, stride_});
  if (wide) build_stage(1, 3);
  for (int stage = 2; stage <= kLastStage; ++stage) {
    build_stage(stage, static_cast<int64_t>(static_cast<double>(o.blocks()[stage - 2]) * o.layer_multiplier()));
  }
  if (o.decoder_stacks() > 0) {
    decoder_ =
        register_module("decoder", std::make_shared<StackedDecoderImpl>(StackedDecoderOptions()
                                                                            .encoder(o)
                                                                            .backbone_stacks(o.decoder_stacks())
                                                                            .backbone_blocks(o.decoder_blocks())
                                                                            .part("backbone")
                                                                            .encoder_channels(decoder_channels())));
  }
}

std::map<int64_t, int64_t> AxialResNetImpl::decoder_channels() const {
  std::map<int64_t, int64_t> out;
  for (size_t k = 0; k < specs_.size(); ++k) {  // res1 .. res5 at ResNet strides 2 .. 32
    out[std::min<int64_t>(int64_t{2} << k, options_.output_stride())] = specs_[k].channels;
  }
  return out;
}

void AxialResNetImpl::build_stem() {
  const AxialResNetOptions& o = options_;
  const auto channels = static_cast<int64_t>(std::lround(64 * o.stem_width_multiplier()));
  if (o.type() == "resnet_beta") {
    stem_ = register_module("stem", inception_stem(o.stem_width_multiplier()));
    in_channels_ = static_cast<int64_t>(128 * o.stem_width_multiplier());
  } else {
    const int64_t kernel = o.type() == "resnet" ? 7 : 3;
    stem_ = register_module("stem", conv_bn_act(ConvBnActOptions(3, channels, kernel).stride(2).activation("")));
    in_channels_ = channels;
  }
  stride_ = 2;
}

// deeplab2's BlockGroup: `resnet_stride` is the stride the unit would have in
// a plain ResNet (the stage's input stride, then its output stride after the
// first unit); the output stride caps the actual one and dilates instead.
void AxialResNetImpl::build_stage(int stage, int64_t units) {
  const AxialResNetOptions& o = options_;
  const bool wide = o.type() == "wider_resnet";
  const int64_t input_stride = stage == 1 ? 2 : int64_t{1} << (stage - 1);
  const int64_t stage_stride = stage == 1 ? 1 : 2;
  const double width = stage == 1 && wide ? o.stem_width_multiplier() : o.width_multiplier();
  const auto filters = static_cast<int64_t>(std::lround(double(int64_t{1} << (stage - 1)) * 32.0 * width));
  const int64_t os = o.output_stride();
  int64_t resnet_stride = input_stride;
  torch::nn::Sequential sequence;
  std::vector<AxialBlock> stage_units;
  std::vector<DualPathTransformer> stage_transformers;
  for (int64_t i = 0; i < units; ++i) {
    const bool first = i == 0;
    const int64_t stride = first && input_stride < os ? stage_stride : 1;
    const int64_t dilation = resnet_stride > os ? resnet_stride / os : 1;
    const int64_t stage_end = input_stride * stage_stride;
    const bool axial = o.axial_beyond_stride() > 0 && resnet_stride >= o.axial_beyond_stride();
    const bool basic = !axial && wide && stage_end < 32;
    AxialBlockOptions unit(in_channels_, filters);
    unit.stride(stride)
        .dilation(dilation)
        .second_dilation(first && stage_end > os ? stage_end / os : dilation)
        .basic(basic)
        .axial(axial)
        .attention_expansion(o.attention_expansion())
        .key_expansion(o.key_expansion())
        .value_expansion(o.value_expansion())
        .middle_expansion(wide && !axial ? 2 : 1)
        .drop_path_keep(axial_unit_keep(o, resnet_stride));
    stage_units.emplace_back(unit);
    sequence->push_back(stage_units.back());
    in_channels_ = 4 * filters;
    stride_ *= stride;
    if (first) resnet_stride *= stage_stride;
    // deeplab2 places the transformer by the stride after the unit's own.
    const bool transformer = o.transformer_beyond_stride() > 0 && resnet_stride >= o.transformer_beyond_stride();
    stage_transformers.push_back(transformer ? make_transformer(stage, i, unit.drop_path_keep())
                                             : DualPathTransformer(nullptr));
  }
  register_module("stage" + std::to_string(stage), sequence);  // the units' names: stage<k>.<i>
  units_.push_back(std::move(stage_units));
  transformers_.push_back(std::move(stage_transformers));
  const std::string name = "res" + std::to_string(stage);
  specs_.push_back({name, in_channels_, stride_});
}

DualPathTransformer AxialResNetImpl::make_transformer(int stage, int64_t unit, double keep) {
  const AxialResNetOptions& o = options_;
  const double input_stride = stage == 1 ? 1.0 : static_cast<double>(int64_t{1} << (stage - 1));
  const auto filters = static_cast<int64_t>(std::lround(128.0 * o.transformer_expansion() * input_stride / 16.0));
  return register_module("stage" + std::to_string(stage) + "_transformer" + std::to_string(unit),
                         DualPathTransformer(DualPathTransformerOptions(in_channels_, o.memory_channels())
                                                 .filters(filters)
                                                 .ffn_channels(o.transformer_ffn_channels())
                                                 .drop_path_keep(keep)));
}

Features AxialResNetImpl::forward(const torch::Tensor& x) {
  Features features;
  torch::Tensor y = stem_->forward(x);
  torch::Tensor memory;
  if (has_memory()) memory = memory_.unsqueeze(0).expand({x.size(0), -1, -1});
  DecoderState state;
  const int64_t os = options_.output_stride();
  const auto remember = [&](size_t k, const torch::Tensor& sum) {  // res<k + 1>, ResNet stride 2^(k + 1)
    if (exports_decoder_state()) state.history[std::min<int64_t>(int64_t{2} << k, os)] = {sum};
  };
  size_t spec = 0;
  if (options_.type() != "wider_resnet") {
    remember(spec, y);
    features[specs_[spec++].name] = torch::relu(y);
  }
  for (size_t stage = 0; stage < units_.size(); ++stage) {
    for (size_t i = 0; i < units_[stage].size(); ++i) {
      y = units_[stage][i]->forward(y);
      if (!transformers_[stage][i].is_empty()) std::tie(y, memory) = transformers_[stage][i]->forward(y, memory);
    }
    remember(spec, y);
    features[specs_[spec++].name] = torch::relu(y);
  }
  if (!exports_decoder_state()) return features;
  state.current = y;
  state.memory = memory;
  if (decoder_) {
    decoder_->forward(state);
    features["backbone_output"] = state.backbone_output;
  }
  export_decoder_state(state, features);
  return features;
}

}  // namespace deeplab::models
