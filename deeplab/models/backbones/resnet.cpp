#include "deeplab/models/backbones/resnet.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/conv_bn_act.h"

namespace deeplab::models {

namespace nn = torch::nn;

namespace {
constexpr int64_t kExpansion = 4;

std::vector<int64_t> blocks_per_stage(int64_t depth) {
  if (depth == 50) return {3, 4, 6, 3};
  if (depth == 101) return {3, 4, 23, 3};
  throw Error("ResNet depth " + std::to_string(depth) + " is not supported; expected 50 or 101");
}
}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in, int64_t planes, int64_t stride, int64_t dilation, bool project) {
  conv1_ = register_module("conv1", same_conv(in, planes, 1));
  bn1_ = register_module("bn1", make_norm(planes));
  conv2_ = register_module("conv2", same_conv(planes, planes, 3, stride, dilation));
  bn2_ = register_module("bn2", make_norm(planes));
  conv3_ = register_module("conv3", same_conv(planes, planes * kExpansion, 1));
  bn3_ = register_module("bn3", make_norm(planes * kExpansion));
  if (project) {
    downsample_ = register_module(
        "downsample", nn::Sequential(same_conv(in, planes * kExpansion, 1, stride), make_norm(planes * kExpansion)));
  }
}

// ReLUs and the residual add work in place on the BN outputs, which nothing
// else reads (torchvision's ReLU(inplace=True) and `out += identity`): the
// out-of-place forms allocated and wrote four extra activation-sized tensors
// per block.
torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto y = bn1_->forward(conv1_->forward(x)).relu_();
  y = bn2_->forward(conv2_->forward(y)).relu_();
  y = bn3_->forward(conv3_->forward(y));
  return y.add_(downsample_ ? downsample_->forward(x) : x).relu_();
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options_(options) {
  const auto os = options.output_stride();
  if (os != 8 && os != 16 && os != 32) {
    throw Error("ResNet output_stride " + std::to_string(os) + " is not supported; expected 8, 16 or 32");
  }
  if (options.dilation_rule() != "torchvision" && options.dilation_rule() != "paper") {
    throw Error("ResNet dilation_rule '" + options.dilation_rule() + "'; expected torchvision or paper");
  }
  build_stem();
  StrideTracker tracker(os);
  tracker.next(2);  // stem conv
  if (options.stem_pool()) {
    tracker.next(2);  // max-pool
  } else {
    specs_.push_back({"stem", in_channels_, tracker.stride()});
  }
  const auto blocks = blocks_per_stage(options.depth());
  const int64_t planes[] = {64, 128, 256, 512};
  const char* names[] = {"low_level", "mid_level", "aux", "out"};
  for (int i = 0; i < 4; ++i) {
    const bool last = i == 3 && options.cascade_blocks() == 0;
    stages_.push_back(
        register_module("layer" + std::to_string(i + 1),
                        make_stage(planes[i], blocks[i], i == 0 && options.stem_pool() ? 1 : 2, tracker, i == 3)));
    specs_.push_back({last || i < 3 ? names[i] : "res5", in_channels_, tracker.stride()});
  }
  // Cascaded copies of block4: each doubles the rate (v3 paper, Sec. 3.2).
  for (int64_t k = 0; k < options.cascade_blocks(); ++k) {
    stages_.push_back(
        register_module("layer" + std::to_string(5 + k), make_stage(512, blocks[3], 2, tracker, /*last_stage=*/true)));
    specs_.push_back(
        {k + 1 == options.cascade_blocks() ? "out" : "res" + std::to_string(6 + k), in_channels_, tracker.stride()});
  }
}

void ResNetImpl::build_stem() {
  if (options_.deep_stem()) {
    deep_stem_ =
        register_module("conv1", nn::Sequential(conv_bn_act(ConvBnActOptions(3, 64, 3).stride(2)),
                                                conv_bn_act(ConvBnActOptions(64, 64, 3)), same_conv(64, 128, 3)));
    in_channels_ = 128;
  } else {
    conv1_ = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  }
  bn1_ = register_module("bn1", make_norm(in_channels_));
  if (options_.stem_pool()) {
    maxpool_ = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  }
}

nn::Sequential ResNetImpl::make_stage(int64_t planes, int64_t blocks, int64_t stride, StrideTracker& tracker,
                                      bool last_stage) {
  const auto step = tracker.next(stride);
  const bool paper = options_.dilation_rule() == "paper";
  const auto& grid = options_.multi_grid();
  if (last_stage && paper && static_cast<int64_t>(grid.size()) != blocks) {
    throw Error("multi_grid has " + std::to_string(grid.size()) + " rates but the last ResNet stage has " +
                std::to_string(blocks) + " units");
  }
  nn::Sequential stage;
  for (int64_t i = 0; i < blocks; ++i) {
    int64_t dilation = step.dilation;
    if (paper && last_stage) {
      dilation = step.dilation * grid[i];
    } else if (!paper && i == 0) {
      dilation = step.previous_dilation;
    }
    const bool project = i == 0 && (step.stride != 1 || in_channels_ != planes * kExpansion);
    stage->push_back(Bottleneck(in_channels_, planes, i == 0 ? step.stride : 1, dilation, project));
    in_channels_ = planes * kExpansion;
  }
  return stage;
}

Features ResNetImpl::forward(const torch::Tensor& x) {
  auto y = options_.deep_stem() ? deep_stem_->forward(x) : conv1_->forward(x);
  y = bn1_->forward(y).relu_();
  Features features;
  size_t spec = 0;
  if (options_.stem_pool()) {
    y = maxpool_->forward(y);
  } else {
    features[specs_[spec++].name] = y;
  }
  for (size_t i = 0; i < stages_.size(); ++i) {
    y = stages_[i]->forward(y);
    features[specs_[spec++].name] = y;
  }
  return features;
}

}  // namespace deeplab::models
