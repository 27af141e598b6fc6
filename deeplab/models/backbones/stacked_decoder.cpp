#include "deeplab/models/backbones/stacked_decoder.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/resize.h"

namespace deeplab::models {

namespace {
const std::string kCurrent = "decoder/current", kHistory = "decoder/history/", kMemory = "memory";
}  // namespace

void export_decoder_state(const DecoderState& state, Features& features) {
  features[kCurrent] = state.current;
  if (state.memory.defined()) features[kMemory] = state.memory;
  for (const auto& [stride, seen] : state.history) {
    for (size_t k = 0; k < seen.size(); ++k) {
      features[kHistory + std::to_string(stride) + "/" + std::to_string(k)] = seen[k];
    }
  }
}

DecoderState import_decoder_state(const Features& features) {
  const auto current = features.find(kCurrent);
  if (current == features.end()) {
    throw Error("stacked decoder: the encoder returned no decoder state ('" + kCurrent +
                "'; an Axial-ResNet with a memory path or decoder stacks)");
  }
  DecoderState state;
  state.current = current->second;
  if (const auto memory = features.find(kMemory); memory != features.end()) state.memory = memory->second;
  // "decoder/history/<stride>/<k>", k in order (the map sorts "10" before "2": place by k).
  for (auto it = features.lower_bound(kHistory); it != features.end() && it->first.rfind(kHistory, 0) == 0; ++it) {
    const std::string rest = it->first.substr(kHistory.size());
    const size_t slash = rest.find('/');
    const int64_t stride = std::stoll(rest.substr(0, slash));
    const auto k = static_cast<size_t>(std::stoull(rest.substr(slash + 1)));
    std::vector<torch::Tensor>& seen = state.history[stride];
    if (seen.size() <= k) seen.resize(k + 1);
    seen[k] = it->second;
  }
  return state;
}

ResizedFuseImpl::ResizedFuseImpl(const std::vector<std::pair<int64_t, int64_t>>& inputs, int64_t channels,
                                 int64_t stride) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto [in, in_stride] = inputs[i];
    const bool strided = in != channels && in_stride * 2 == stride;
    strided_.push_back(strided);
    if (in == channels) {
      projections_.emplace_back(nullptr);
      continue;
    }
    projections_.push_back(
        register_module((strided ? "strided" : "resized") + std::to_string(i),
                        conv_bn_act(ConvBnActOptions(in, channels, 1).stride(strided ? 2 : 1).activation(""))));
  }
}

torch::Tensor ResizedFuseImpl::forward(const std::vector<torch::Tensor>& inputs, int64_t height, int64_t width) {
  if (inputs.size() != projections_.size()) throw Error("resized fuse: built for another number of inputs");
  torch::Tensor sum;
  for (size_t i = 0; i < inputs.size(); ++i) {
    torch::Tensor x = inputs[i];
    if (!projections_[i].is_empty()) x = projections_[i]->forward(torch::relu(x));
    if (!strided_[i] && (x.size(2) != height || x.size(3) != width)) {
      x = resize_bilinear(x, height, width, /*align_corners=*/true);
    }
    sum = sum.defined() ? sum + x : x;
  }
  return sum;
}

// deeplab2's BlockGroup at ResNet stride 1: `blocks` units of width
// `channels` at ResNet stride `input_stride`, each followed by a dual-path
// layer from `transformer_beyond` on (its width from the decoder stride).
StackedDecoderImpl::UnitGroup StackedDecoderImpl::unit_group(const std::string& name, int64_t in, int64_t channels,
                                                             int64_t input_stride, int64_t decoder_stride,
                                                             int64_t blocks, int64_t transformer_beyond) {
  const AxialResNetOptions& e = options_.encoder();
  const bool wide = e.type() == "wider_resnet";
  const bool axial = e.axial_beyond_stride() > 0 && input_stride >= e.axial_beyond_stride();
  const int64_t os = e.output_stride();
  const double keep = axial_unit_keep(e, input_stride);
  const bool transformer = transformer_beyond > 0 && input_stride >= transformer_beyond;
  const auto filters =
      static_cast<int64_t>(std::lround(128.0 * e.transformer_expansion() * static_cast<double>(decoder_stride) / 16.0));
  UnitGroup group;
  for (int64_t i = 0; i < blocks; ++i) {
    const std::string index = name + "_unit" + std::to_string(i);
    group.units.push_back(register_module(index, AxialBlock(AxialBlockOptions(in, channels / 4)
                                                                .dilation(input_stride > os ? input_stride / os : 1)
                                                                .basic(!axial && wide && input_stride < 32)
                                                                .axial(axial)
                                                                .attention_expansion(e.attention_expansion())
                                                                .key_expansion(e.key_expansion())
                                                                .value_expansion(e.value_expansion())
                                                                .middle_expansion(wide && !axial ? 2 : 1)
                                                                .drop_path_keep(keep))));
    group.transformers.push_back(
        transformer ? register_module(index + "_transformer",
                                      DualPathTransformer(DualPathTransformerOptions(channels, e.memory_channels())
                                                              .filters(filters)
                                                              .ffn_channels(e.transformer_ffn_channels())
                                                              .drop_path_keep(keep)))
                    : DualPathTransformer(nullptr));
    in = channels;
  }
  return group;
}

// Walks deeplab2's schedule once, building this part's modules and tracking
// every feature's width and stride, which decide the fuses' projections.
StackedDecoderImpl::StackedDecoderImpl(const StackedDecoderOptions& o) : options_(o) {
  const AxialResNetOptions& e = o.encoder();
  const int64_t os = e.output_stride(), high = o.high_resolution_stride();
  const double width = e.width_multiplier();
  const bool backbone_part = o.part() == "backbone";
  if (!backbone_part && o.part() != "extra") throw Error("stacked decoder: part is backbone or extra");
  if (backbone_part && o.backbone_stacks() < 1) throw Error("stacked decoder: a backbone part needs stacks");
  if (!o.encoder_channels().count(os)) throw Error("stacked decoder: no encoder feature at the output stride");
  std::map<int64_t, std::vector<int64_t>> history;  // widths seen at each stride
  for (const auto& [stride, channels] : o.encoder_channels()) history[stride] = {channels};
  int64_t current = history.at(os).back(), current_stride = os;
  bool in_backbone = o.backbone_stacks() > 0;
  if (!in_backbone) {  // deeplab2's stage5_extra
    const int64_t channels = 4 * static_cast<int64_t>(std::lround(512.0 * width));
    stage5_extra_ =
        unit_group("stage5_extra", current, channels, 32, 16, o.extra_blocks(), o.extra_transformer_beyond_stride());
    current = channels;
    history[os] = {channels};
  }
  const int64_t total = o.backbone_stacks() + o.extra_stacks();
  int64_t stack = 0, stride = os;
  bool down = true;
  while (stack < total || stride > high) {
    stride = down ? stride / 2 : stride * 2;
    if (stride < 1) throw Error("stacked decoder: the high-resolution stride is above the output stride");
    int64_t input_stride = stride;
    if (stride == os) {
      ++stack;
      input_stride = 32;
      down = true;
    }
    const auto channels = static_cast<int64_t>(std::lround(static_cast<double>(input_stride) * 64.0 * width));
    const std::string name = "stage" + std::to_string(stages_.size() + 1);
    Stage stage;
    stage.stride = stride;
    std::vector<std::pair<int64_t, int64_t>> inputs = {{current, current_stride}};
    const std::vector<int64_t>& seen = history[stride];
    for (size_t i = seen.size() > 2 ? seen.size() - 2 : 0; i < seen.size(); ++i) inputs.emplace_back(seen[i], stride);
    if (in_backbone == backbone_part) {
      stage.fuse = register_module(name + "_fuse", ResizedFuse(inputs, channels, stride));
    }
    if (in_backbone && backbone_part) {
      stage.backbone_units = unit_group(name, channels, channels, input_stride, stride, o.backbone_blocks(),
                                        e.transformer_beyond_stride());
    }
    const bool ends_backbone = in_backbone && stride == os && stack == o.backbone_stacks();
    if (ends_backbone) in_backbone = false;
    stage.ends_backbone = ends_backbone;
    if (!in_backbone && !backbone_part) {
      stage.extra_units = unit_group(name + "_extra", channels, channels, input_stride, stride, o.extra_blocks(),
                                     o.extra_transformer_beyond_stride());
    }
    history[stride].push_back(channels);
    current = channels;
    current_stride = stride;
    if (stride == high) down = false;
    const bool mine = backbone_part ? (!stage.backbone_units.units.empty()) : !stage.extra_units.units.empty();
    if (mine) stages_.push_back(std::move(stage));
    if (backbone_part && ends_backbone) break;
  }
  out_channels_ = current;
}

void StackedDecoderImpl::run(UnitGroup& group, DecoderState& state) {
  for (size_t i = 0; i < group.units.size(); ++i) {
    state.current = group.units[i]->forward(state.current);
    if (!group.transformers[i].is_empty()) {
      std::tie(state.current, state.memory) = group.transformers[i]->forward(state.current, state.memory);
    }
  }
}

void StackedDecoderImpl::forward(DecoderState& state) {
  const bool backbone_part = options_.part() == "backbone";
  if (!stage5_extra_.units.empty()) {
    run(stage5_extra_, state);
    state.history[options_.encoder().output_stride()] = {state.current};  // deeplab2 records its output
  }
  for (Stage& stage : stages_) {
    std::vector<torch::Tensor>& seen = state.history[stage.stride];
    if (!stage.fuse.is_empty()) {
      std::vector<torch::Tensor> inputs = {state.current};
      for (size_t i = seen.size() > 2 ? seen.size() - 2 : 0; i < seen.size(); ++i) inputs.push_back(seen[i]);
      state.current = stage.fuse->forward(inputs, seen.front().size(2), seen.front().size(3));
    }
    run(stage.backbone_units, state);
    if (stage.ends_backbone) {
      state.backbone_output = torch::relu(state.current);
      if (backbone_part) return;  // the extra part finishes this stage
    }
    run(stage.extra_units, state);
    seen.push_back(state.current);
    if (stage.stride == options_.high_resolution_stride()) state.high_resolution.push_back(torch::relu(state.current));
  }
}

}  // namespace deeplab::models
