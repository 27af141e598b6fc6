#include "deeplab/models/backbones/convnext.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/activation.h"
#include "deeplab/models/layers/axial_attention.h"
#include "deeplab/models/layers/axial_block.h"

namespace deeplab::models {

namespace {
constexpr double kLayerNormEps = 1e-6;
constexpr double kInitStd = 0.02;  // deeplab2 and torchvision: truncated normal 0.02, zero biases

template <class Layer>
void init_weight(Layer& layer) {
  truncated_normal_(layer->weight, kInitStd);
  torch::NoGradGuard no_grad;
  layer->bias.zero_();
}

}  // namespace

void convnext_variant(const std::string& variant, std::vector<int64_t>& depths, std::vector<int64_t>& widths) {
  const std::vector<int64_t> deep = {3, 3, 27, 3};
  if (variant == "tiny") {
    depths = {3, 3, 9, 3};
    widths = {96, 192, 384, 768};
  } else if (variant == "small") {
    depths = deep;
    widths = {96, 192, 384, 768};
  } else if (variant == "base") {
    depths = deep;
    widths = {128, 256, 512, 1024};
  } else if (variant == "large") {
    depths = deep;
    widths = {192, 384, 768, 1536};
  } else {
    throw Error("convnext: unknown variant '" + variant + "'; expected tiny, small, base or large");
  }
}

ChannelLayerNormImpl::ChannelLayerNormImpl(int64_t channels) {
  weight_ = register_parameter("weight", torch::ones({channels}));
  bias_ = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor ChannelLayerNormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor y = torch::layer_norm(x.permute({0, 2, 3, 1}), {x.size(1)}, weight_, bias_, kLayerNormEps);
  return y.permute({0, 3, 1, 2});
}

ConvNeXtBlockImpl::ConvNeXtBlockImpl(int64_t c, double layer_scale_init, double drop_path_keep)
    : drop_path_keep_(drop_path_keep) {
  depthwise_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(c, c, 7).padding(3).groups(c));
  norm_ = torch::nn::LayerNorm(torch::nn::LayerNormOptions({c}).eps(kLayerNormEps));
  expand_ = torch::nn::Linear(c, 4 * c);
  project_ = torch::nn::Linear(4 * c, c);
  init_weight(depthwise_);
  init_weight(expand_);
  init_weight(project_);
  // torchvision's indices: 1, 4 and 6 are its Permutes and GELU (no parameters).
  torch::nn::Sequential block(depthwise_, torch::nn::Identity(), norm_, expand_, torch::nn::Identity(), project_,
                              torch::nn::Identity());
  register_module("block", block);
  layer_scale_ = register_parameter("layer_scale", torch::full({c, 1, 1}, layer_scale_init));
}

torch::Tensor ConvNeXtBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = depthwise_->forward(x).permute({0, 2, 3, 1});  // NHWC for the per-pixel MLP
  y = project_->forward(gelu_activation(expand_->forward(norm_->forward(y))));
  y = layer_scale_ * y.permute({0, 3, 1, 2});
  return x + drop_path(y, drop_path_keep_, is_training());
}

ConvNeXtImpl::ConvNeXtImpl(const ConvNeXtOptions& o) : options_(o) {
  std::vector<int64_t> depths, widths;
  convnext_variant(o.variant(), depths, widths);
  const int64_t blocks = depths[0] + depths[1] + depths[2] + depths[3];
  int64_t block = 0, stride = 4;
  for (size_t stage = 0; stage < 4; ++stage) {
    const int64_t c = widths[stage];
    Chain down;
    if (stage == 0) {
      down->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c, 4).stride(4)));
      down->push_back(ChannelLayerNorm(c));
    } else {
      down->push_back(ChannelLayerNorm(widths[stage - 1]));
      down->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(widths[stage - 1], c, 2).stride(2)));
      stride *= 2;
    }
    for (auto& conv : down->modules(/*include_self=*/false)) {
      if (auto* layer = conv->as<torch::nn::Conv2dImpl>()) init_weight(layer);
    }
    layers_.push_back(register_module(std::to_string(2 * stage), down));
    if (stage == 0) specs_.push_back({"res1", c, stride});
    Chain units;
    for (int64_t i = 0; i < depths[stage]; ++i, ++block) {
      // linspace(1, keep, blocks): the first block keeps everything.
      const double keep =
          blocks > 1 ? 1.0 - (1.0 - o.drop_path_keep()) * static_cast<double>(block) / static_cast<double>(blocks - 1)
                     : o.drop_path_keep();
      units->push_back(ConvNeXtBlock(c, o.layer_scale_init(), keep));
    }
    layers_.push_back(register_module(std::to_string(2 * stage + 1), units));
    specs_.push_back({"res" + std::to_string(stage + 2), c, stride});
  }
}

Features ConvNeXtImpl::forward(const torch::Tensor& x) {
  Features features;
  torch::Tensor y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (options_.pad_for_downstream() && i % 2 == 0) {
      y = i == 0 ? torch::constant_pad_nd(y, {1, 2, 1, 2}) : torch::constant_pad_nd(y, {0, 1, 0, 1});
    }
    y = layers_[i]->forward(y);
    if (i == 0) features["res1"] = gelu_activation(y);
    if (i % 2 == 1) features[specs_[i / 2 + 1].name] = gelu_activation(y);
  }
  return features;
}

}  // namespace deeplab::models
