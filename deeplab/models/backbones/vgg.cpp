#include "deeplab/models/backbones/vgg.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::models {

namespace nn = torch::nn;

VggImpl::VggImpl(const VggOptions& options) {
  const bool largefov = options.layout() == "largefov";
  if (!largefov && options.layout() != "torchvision") {
    throw Error("VGG layout '" + options.layout() + "'; expected largefov or torchvision");
  }
  const int64_t os = options.output_stride();
  if ((largefov && os != 8 && os != 16 && os != 32) || (!largefov && os != 32)) {
    throw Error("VGG " + options.layout() + " layout cannot give output_stride " + std::to_string(os) +
                (largefov ? "; expected 8, 16 or 32" : "; expected 32 (use layout largefov for 8 or 16)"));
  }
  const int64_t convs_per_block[] = {2, 2, 3, 3, 3};
  const int64_t widths[] = {64, 128, 256, 512, 512};
  StrideTracker tracker(os);
  int64_t in = 3;
  for (int block = 0; block < 5; ++block) {
    const int64_t dilation = tracker.dilation();
    for (int64_t i = 0; i < convs_per_block[block]; ++i) {
      add(nn::AnyModule(nn::Conv2d(nn::Conv2dOptions(in, widths[block], 3).padding(dilation).dilation(dilation))));
      add(nn::AnyModule(nn::ReLU(nn::ReLUOptions(true))));
      in = widths[block];
    }
    if (block == 3) taps_.push_back({layers_.size() - 1, "aux"});  // conv4_3 after ReLU
    if (block == 3) specs_.push_back({"aux", 512, tracker.stride()});
    const int64_t pool_stride = tracker.next(2).stride;
    if (largefov) {  // Caffe pools round up (ceil mode)
      add(nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(pool_stride).padding(1).ceil_mode(true))));
    } else {
      add(nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2))));
    }
    if (block == 1) taps_.push_back({layers_.size() - 1, "low_level"});
    if (block == 1) specs_.push_back({"low_level", 128, tracker.stride()});
    if (block == 2) taps_.push_back({layers_.size() - 1, "mid_level"});
    if (block == 2) specs_.push_back({"mid_level", 256, tracker.stride()});
  }
  if (largefov && options.pool5a()) {
    // DeepLab-LargeFOV's pool5a: 3x3 average pooling, stride 1 (Caffe counts the padding).
    add(nn::AnyModule(nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(true))));
  }
  taps_.push_back({layers_.size() - 1, "out"});
  specs_.push_back({"out", 512, tracker.stride()});
}

void VggImpl::add(nn::AnyModule layer) {
  register_module(std::to_string(layers_.size()), layer.ptr());
  layers_.push_back(std::move(layer));
}

Features VggImpl::forward(const torch::Tensor& x) {
  Features features;
  auto y = x;
  size_t next_tap = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    y = layers_[i].forward(y);
    if (next_tap < taps_.size() && taps_[next_tap].first == i) features[taps_[next_tap++].second] = y;
  }
  return features;
}

}  // namespace deeplab::models
