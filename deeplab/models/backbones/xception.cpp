#include "deeplab/models/backbones/xception.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

namespace nn = torch::nn;

namespace {
constexpr double kBnEps = 1e-3;  // TF DeepLab's batch_norm_epsilon for Xception

std::vector<XceptionUnitConfig> xception_units(int64_t depth) {
  std::vector<XceptionUnitConfig> units;
  auto entry = [&](int64_t d, int64_t stride) { units.push_back({{d, d, d}, stride, SkipType::kConv, false}); };
  if (depth == 65) {
    entry(128, 2), entry(256, 2), entry(728, 2);
  } else if (depth == 71) {
    entry(128, 2), entry(256, 1), entry(256, 2), entry(728, 1), entry(728, 2);
  } else {
    throw Error("Xception depth " + std::to_string(depth) + " is not supported; expected 65 or 71");
  }
  for (int i = 0; i < 16; ++i) units.push_back({{728, 728, 728}, 1, SkipType::kSum, false});
  units.push_back({{728, 1024, 1024}, 2, SkipType::kConv, false});
  units.push_back({{1536, 1536, 2048}, 1, SkipType::kNone, true});
  return units;
}
}  // namespace

XceptionUnitImpl::XceptionUnitImpl(int64_t in, const XceptionUnitConfig& config, int64_t stride,
                                   std::vector<int64_t> rates)
    : config_(config) {
  int64_t channels = in;
  for (int i = 0; i < 3; ++i) {
    auto options = SeparableConvOptions(channels, config.depths[i])
                       .stride(i == 2 ? stride : 1)
                       .dilation(rates[i])
                       .relu_after_bn(config.relu_inside)
                       .bn_eps(kBnEps);
    convs_.push_back(register_module("sepconv" + std::to_string(i + 1), SeparableConv(options)));
    channels = config.depths[i];
  }
  if (config.skip == SkipType::kConv) {
    shortcut_ = register_module("shortcut", same_conv(in, channels, 1, stride));
    shortcut_bn_ = register_module("shortcut_bn", make_norm(channels, kBnEps));
  }
}

std::pair<torch::Tensor, torch::Tensor> XceptionUnitImpl::forward_with_tap(const torch::Tensor& x) {
  torch::Tensor y = x, tap;
  for (int i = 0; i < 3; ++i) {
    if (!config_.relu_inside) y = torch::relu(y);
    y = convs_[i]->forward(y);
    if (i == 1) tap = y;
  }
  if (config_.skip == SkipType::kConv) y = y + shortcut_bn_->forward(shortcut_->forward(x));
  if (config_.skip == SkipType::kSum) y = y + x;
  return {y, tap};
}

XceptionImpl::XceptionImpl(const XceptionOptions& options) {
  const auto os = options.output_stride();
  if (os != 8 && os != 16 && os != 32) {
    throw Error("Xception output_stride " + std::to_string(os) + " is not supported; expected 8, 16 or 32");
  }
  if (options.multi_grid().size() != 3) throw Error("Xception multi_grid needs 3 rates");
  conv1_ = register_module("conv1", same_conv(3, 32, 3, 2));
  bn1_ = register_module("bn1", make_norm(32, kBnEps));
  conv2_ = register_module("conv2", same_conv(32, 64, 3));
  bn2_ = register_module("bn2", make_norm(64, kBnEps));

  StrideTracker tracker(os);
  tracker.next(2);
  const auto configs = xception_units(options.depth());
  int64_t in = 64;
  for (size_t i = 0; i < configs.size(); ++i) {
    const int64_t stride_before = tracker.stride();
    const auto step = tracker.next(configs[i].stride);
    // TF's stack_blocks_dense: the unit giving up its stride runs at the old rate.
    std::vector<int64_t> rates(3, configs[i].stride > 1 ? step.previous_dilation : step.dilation);
    if (i + 1 == configs.size()) {
      for (int k = 0; k < 3; ++k) rates[k] = step.dilation * options.multi_grid()[k];
    }
    if (stride_before == 4 && tracker.stride() == 8) low_level_unit_ = i;
    if (configs[i].skip == SkipType::kSum) aux_unit_ = i;
    units_.push_back(
        register_module("block" + std::to_string(i + 1), XceptionUnit(in, configs[i], step.stride, rates)));
    in = configs[i].depths[2];
    if (i == low_level_unit_ && stride_before == 4) {
      specs_.push_back({"low_level", configs[i].depths[1], 4});
      specs_.push_back({"mid_level", configs[i].depths[2], 8});
    }
  }
  specs_.push_back({"aux", 728, std::min<int64_t>(16, os)});
  specs_.push_back({"out", 2048, tracker.stride()});
}

Features XceptionImpl::forward(const torch::Tensor& x) {
  auto y = bn1_->forward(conv1_->forward(x)).relu_();
  y = bn2_->forward(conv2_->forward(y)).relu_();
  Features features;
  for (size_t i = 0; i < units_.size(); ++i) {
    auto [out, tap] = units_[i]->forward_with_tap(y);
    if (i == low_level_unit_) {
      features["low_level"] = tap;
      features["mid_level"] = out;
    }
    if (i == aux_unit_) features["aux"] = out;
    y = out;
  }
  features["out"] = y;
  return features;
}

}  // namespace deeplab::models
