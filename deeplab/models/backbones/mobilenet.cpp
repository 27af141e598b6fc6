#include "deeplab/models/backbones/mobilenet.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/backbones/mobilenet_blocks.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

namespace nn = torch::nn;

int64_t make_divisible(double value, int64_t divisor) {
  int64_t rounded = std::max(divisor, static_cast<int64_t>(value + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

namespace {

struct StageV2 {
  int64_t expand, channels, repeats, stride;
};
// (t, c, n, s) of the MobileNetV2 paper, Table 2.
const StageV2 kStagesV2[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

// (in, kernel, expanded, out, SE, activation, stride) of the MobileNetV3 paper,
// Tables 1 and 2 (dilation is decided by the output stride).
const std::vector<BlockV3Config> kLargeV3 = {
    {16, 3, 16, 16, false, "relu", 1, 1},        {16, 3, 64, 24, false, "relu", 2, 1},
    {24, 3, 72, 24, false, "relu", 1, 1},        {24, 5, 72, 40, true, "relu", 2, 1},
    {40, 5, 120, 40, true, "relu", 1, 1},        {40, 5, 120, 40, true, "relu", 1, 1},
    {40, 3, 240, 80, false, "hardswish", 2, 1},  {80, 3, 200, 80, false, "hardswish", 1, 1},
    {80, 3, 184, 80, false, "hardswish", 1, 1},  {80, 3, 184, 80, false, "hardswish", 1, 1},
    {80, 3, 480, 112, true, "hardswish", 1, 1},  {112, 3, 672, 112, true, "hardswish", 1, 1},
    {112, 5, 672, 160, true, "hardswish", 2, 1}, {160, 5, 960, 160, true, "hardswish", 1, 1},
    {160, 5, 960, 160, true, "hardswish", 1, 1}};
const std::vector<BlockV3Config> kSmallV3 = {
    {16, 3, 16, 16, true, "relu", 2, 1},       {16, 3, 72, 24, false, "relu", 2, 1},
    {24, 3, 88, 24, false, "relu", 1, 1},      {24, 5, 96, 40, true, "hardswish", 2, 1},
    {40, 5, 240, 40, true, "hardswish", 1, 1}, {40, 5, 240, 40, true, "hardswish", 1, 1},
    {40, 5, 120, 48, true, "hardswish", 1, 1}, {48, 5, 144, 48, true, "hardswish", 1, 1},
    {48, 5, 288, 96, true, "hardswish", 2, 1}, {96, 5, 576, 96, true, "hardswish", 1, 1},
    {96, 5, 576, 96, true, "hardswish", 1, 1}};

}  // namespace

MobileNetImpl::MobileNetImpl(const MobileNetOptions& options) : options_(options) {
  const auto os = options.output_stride();
  if (os != 8 && os != 16 && os != 32) {
    throw Error("MobileNet output_stride " + std::to_string(os) + " is not supported; expected 8, 16 or 32");
  }
  StrideTracker tracker(os);
  if (options.variant() == "v2") {
    build_v2(tracker);
  } else if (options.variant() == "v3_large" || options.variant() == "v3_small") {
    build_v3(options.variant() == "v3_large", tracker);
  } else {
    throw Error("MobileNet variant '" + options.variant() + "'; expected v2, v3_large or v3_small");
  }
  add_taps();
}

void MobileNetImpl::add_layer(nn::AnyModule layer, int64_t channels, int64_t stride) {
  register_module(std::to_string(layers_.size()), layer.ptr());
  layers_.push_back(std::move(layer));
  channels_.push_back(channels);
  strides_.push_back(stride);
}

void MobileNetImpl::build_v2(StrideTracker& tracker) {
  const double width = options_.width_mult();
  int64_t in = make_divisible(32 * width);
  add_layer(nn::AnyModule(conv_bn_act(ConvBnActOptions(3, in, 3).stride(tracker.next(2).stride).activation("relu6"))),
            in, tracker.stride());
  is_downsampling_.push_back(false);
  for (const auto& stage : kStagesV2) {
    const int64_t out = make_divisible(stage.channels * width);
    const auto step = tracker.next(stage.stride);
    for (int64_t i = 0; i < stage.repeats; ++i) {
      // TF's convention: the unit that gives up its stride keeps the old rate.
      const int64_t dilation = i == 0 ? step.previous_dilation : step.dilation;
      add_layer(nn::AnyModule(InvertedResidualV2(in, out, i == 0 ? step.stride : 1, dilation, stage.expand)), out,
                tracker.stride());
      is_downsampling_.push_back(i == 0 && stage.stride > 1);
      in = out;
    }
  }
  if (!options_.final_conv()) return;
  const int64_t last = make_divisible(1280 * std::max(1.0, width));
  add_layer(nn::AnyModule(conv_bn_act(ConvBnActOptions(in, last, 1).activation("relu6"))), last, tracker.stride());
  is_downsampling_.push_back(false);
}

void MobileNetImpl::build_v3(bool large, StrideTracker& tracker) {
  const double width = options_.width_mult();
  auto first =
      ConvBnActOptions(3, make_divisible(16 * width), 3).activation("hardswish").bn_eps(1e-3).bn_momentum(0.01);
  add_layer(nn::AnyModule(conv_bn_act(first.stride(tracker.next(2).stride))), first.out_channels(), tracker.stride());
  is_downsampling_.push_back(false);
  int64_t in = first.out_channels();
  for (auto config : large ? kLargeV3 : kSmallV3) {
    config.in = in;
    config.expanded = make_divisible(config.expanded * width);
    config.out = make_divisible(config.out * width);
    const auto step = tracker.next(config.stride);
    is_downsampling_.push_back(config.stride > 1);
    // torchvision's dilated V3: the block that gives up its stride already dilates.
    config.dilation = step.dilation;
    config.stride = step.stride;
    add_layer(nn::AnyModule(InvertedResidualV3(config)), config.out, tracker.stride());
    in = config.out;
  }
  if (!options_.final_conv()) return;
  const int64_t last = 6 * in;
  add_layer(
      nn::AnyModule(conv_bn_act(ConvBnActOptions(in, last, 1).activation("hardswish").bn_eps(1e-3).bn_momentum(0.01))),
      last, tracker.stride());
  is_downsampling_.push_back(false);
}

// torchvision's segmentation taps: stage starts are layer 0, every
// downsampling block and the last layer; aux is the 4th from the end.
void MobileNetImpl::add_taps() {
  std::vector<size_t> stage_starts = {0};
  for (size_t i = 1; i < layers_.size(); ++i) {
    if (is_downsampling_[i]) stage_starts.push_back(i);
  }
  stage_starts.push_back(layers_.size() - 1);
  size_t low_level = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (strides_[i] == 4) low_level = i;
  }
  // Stride 8: the last layer of the stage that reaches it (stage ends are
  // nominal, so a dilated stage after it does not extend it).
  size_t mid_level = low_level;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (strides_[i] != 8) continue;
    mid_level = i;
    while (mid_level + 1 < layers_.size() && !is_downsampling_[mid_level + 1]) ++mid_level;
    break;
  }
  const size_t aux = stage_starts[stage_starts.size() - 4];
  const size_t out = layers_.size() - 1;
  taps_ = {{low_level, {"low_level", channels_[low_level], strides_[low_level]}},
           {mid_level, {"mid_level", channels_[mid_level], strides_[mid_level]}},
           {aux, {"aux", channels_[aux], strides_[aux]}},
           {out, {"out", channels_[out], strides_[out]}}};
}

std::vector<FeatureSpec> MobileNetImpl::feature_specs() const {
  std::vector<FeatureSpec> specs;
  for (const auto& tap : taps_) specs.push_back(tap.spec);
  return specs;
}

Features MobileNetImpl::forward(const torch::Tensor& x) {
  Features features;
  auto y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    y = layers_[i].forward(y);
    for (const auto& tap : taps_) {
      if (tap.layer == i) features[tap.spec.name] = y;
    }
  }
  return features;
}

}  // namespace deeplab::models
