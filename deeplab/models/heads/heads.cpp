#include "deeplab/models/heads/heads.h"

#include <torch/torch.h>

#include "deeplab/models/layers/conv_bn_act.h"
#include "deeplab/models/layers/resize.h"
#include "deeplab/models/layers/separable_conv.h"

namespace deeplab::models {

namespace nn = torch::nn;

namespace {
nn::Conv2d classifier_conv(int64_t in, int64_t num_classes) {
  return nn::Conv2d(nn::Conv2dOptions(in, num_classes, 1));
}

// DeepLab v1/v2's new classifiers start from N(0, 0.01) weights and zero
// bias (Caffe prototxts' gaussian filler; kazuto1011's DeepLabV2 the same).
nn::Conv2d caffe_init(nn::Conv2d conv) {
  torch::NoGradGuard no_grad;
  conv->weight.normal_(0.0, 0.01);
  if (conv->bias.defined()) conv->bias.zero_();
  return conv;
}

// Registers a Sequential's children directly under `owner` as "0", "1", ...
// so names read like torchvision's `classifier.<i>`.
nn::Sequential adopt_children(nn::Module& owner, nn::Sequential seq) {
  for (size_t i = 0; i < seq->size(); ++i) owner.register_module(std::to_string(i), seq->ptr(i));
  return seq;
}
}  // namespace

LargeFovHeadImpl::LargeFovHeadImpl(const FeatureSpec& in, int64_t num_classes, int64_t hidden, bool fc_from_imagenet)
    : feature_(in.name), fc_from_imagenet_(fc_from_imagenet) {
  auto fc6 = nn::Conv2d(nn::Conv2dOptions(in.channels, hidden, 3).padding(12).dilation(12));
  auto fc7 = nn::Conv2d(nn::Conv2dOptions(hidden, hidden, 1));
  layers_ = nn::Sequential(fc6, nn::ReLU(nn::ReLUOptions(true)), nn::Dropout(0.5), fc7, nn::ReLU(nn::ReLUOptions(true)),
                           nn::Dropout(0.5), caffe_init(classifier_conv(hidden, num_classes)));
  // Registered by role (so eval() reaches the dropouts too): fc6 relu6 drop6 fc7 relu7 drop7 fc8.
  const char* names[] = {"fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"};
  for (size_t i = 0; i < layers_->size(); ++i) register_module(names[i], layers_->ptr(i));
}

torch::Tensor LargeFovHeadImpl::forward(const Features& features) { return layers_->forward(features.at(feature_)); }

// DeepLab's prototxts give lr_mult 10 to fc8 only: fc6/fc7 come from ImageNet.
std::vector<torch::Tensor> LargeFovHeadImpl::new_parameters() {
  return fc_from_imagenet_ ? layers_->ptr(layers_->size() - 1)->parameters() : parameters();
}

std::vector<std::pair<std::string, std::string>> LargeFovHeadImpl::imagenet_fc_layers() const {
  if (!fc_from_imagenet_) return {};
  return {{"fc6", "fc7"}};
}

AsppSumHeadImpl::AsppSumHeadImpl(const FeatureSpec& in, int64_t num_classes, std::vector<int64_t> rates, int64_t hidden)
    : feature_(in.name), has_fc_(hidden > 0) {
  for (size_t i = 0; i < rates.size(); ++i) {
    const int64_t r = rates[i];
    nn::Sequential branch;
    if (hidden > 0) {
      branch = nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in.channels, hidden, 3).padding(r).dilation(r)),
                              nn::ReLU(nn::ReLUOptions(true)), nn::Dropout(0.5),
                              nn::Conv2d(nn::Conv2dOptions(hidden, hidden, 1)), nn::ReLU(nn::ReLUOptions(true)),
                              nn::Dropout(0.5), caffe_init(classifier_conv(hidden, num_classes)));
    } else {
      branch =
          nn::Sequential(caffe_init(nn::Conv2d(nn::Conv2dOptions(in.channels, num_classes, 3).padding(r).dilation(r))));
    }
    branches_.push_back(register_module("branch" + std::to_string(i), branch));
  }
}

torch::Tensor AsppSumHeadImpl::forward(const Features& features) {
  const auto& x = features.at(feature_);
  torch::Tensor sum = branches_[0]->forward(x);
  for (size_t i = 1; i < branches_.size(); ++i) sum = sum + branches_[i]->forward(x);
  return sum;
}

// Each branch's last layer is its classifier (fc8); with fc6/fc7 the rest is ImageNet's.
std::vector<torch::Tensor> AsppSumHeadImpl::new_parameters() {
  if (!has_fc_) return parameters();
  std::vector<torch::Tensor> params;
  for (auto& branch : branches_) {
    for (auto& p : branch->ptr(branch->size() - 1)->parameters()) params.push_back(p);
  }
  return params;
}

std::vector<std::pair<std::string, std::string>> AsppSumHeadImpl::imagenet_fc_layers() const {
  std::vector<std::pair<std::string, std::string>> layers;
  if (!has_fc_) return layers;
  for (size_t i = 0; i < branches_.size(); ++i) {
    const std::string branch = "branch" + std::to_string(i);
    layers.emplace_back(branch + ".0", branch + ".3");
  }
  return layers;
}

DeepLabV3HeadImpl::DeepLabV3HeadImpl(const DeepLabV3HeadOptions& o) : feature_(o.in().name) {
  const int64_t ch = o.channels();
  nn::Sequential seq(
      Aspp(AsppOptions(o.in().channels, o.rates()).channels(ch).dropout(o.dropout()).separable(o.separable())));
  if (o.torchvision_style()) {
    seq->push_back(same_conv(ch, ch, 3));
    seq->push_back(make_norm(ch));
    seq->push_back(nn::ReLU(nn::ReLUOptions(true)));
  }
  seq->push_back(classifier_conv(ch, o.num_classes()));
  layers_ = adopt_children(*this, seq);
}

torch::Tensor DeepLabV3HeadImpl::forward(const Features& features) { return layers_->forward(features.at(feature_)); }

nn::Sequential make_fcn_head(int64_t in_channels, int64_t num_classes) {
  const int64_t inter = in_channels / 4;
  return nn::Sequential(same_conv(in_channels, inter, 3), make_norm(inter), nn::ReLU(nn::ReLUOptions(true)),
                        nn::Dropout(0.1), classifier_conv(inter, num_classes));
}

}  // namespace deeplab::models
