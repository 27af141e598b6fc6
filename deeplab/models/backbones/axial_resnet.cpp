#include "deeplab/models/backbones/axial_resnet.h"

#include <torch/torch.h>

#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/axial_block.h"

namespace deeplab::models {

namespace {
constexpr int64_t kStemChannels = 64;
constexpr int kStages = 4;

// deeplab2's get_drop_path_keep_prob('linear'): a unit at ResNet stride s
// (its stage's input stride for the first unit, twice that after) keeps
// 1 - (1 - keep) * (log2(s) - 1) / 4; units below stride 16 are always kept
// (drop_path_beyond_stride).  The strides are the ResNet's own, before the
// output-stride cap.
double unit_keep(double keep, int64_t resnet_stride) {
  if (resnet_stride < 16) return 1.0;
  const double stage = std::log2(static_cast<double>(resnet_stride)) - 1.0;
  return 1.0 - (1.0 - keep) * stage / kStages;
}
}  // namespace

AxialResNetImpl::AxialResNetImpl(const AxialResNetOptions& o) {
  if (o.blocks().size() != kStages) throw Error("axial resnet: expected 4 stage lengths");
  stem_ = register_module("stem", conv_bn_act(ConvBnActOptions(3, kStemChannels, 7).stride(2).activation("")));
  StrideTracker tracker(o.output_stride());
  tracker.next(2);  // the stem
  int64_t in = kStemChannels;
  for (int stage = 0; stage < kStages; ++stage) {
    const int64_t input_stride = int64_t{2} << stage;  // 2, 4, 8, 16 (before the output-stride cap)
    const auto filters = static_cast<int64_t>(std::lround(double(input_stride) * 32.0 * o.width_multiplier()));
    const int64_t stride = tracker.next(2).stride;
    torch::nn::Sequential units;
    for (int64_t i = 0; i < o.blocks()[stage]; ++i) {
      units->push_back(
          AxialBlock(AxialBlockOptions(in, filters)
                         .stride(i == 0 ? stride : 1)
                         .axial(true)
                         .drop_path_keep(unit_keep(o.drop_path_keep(), i == 0 ? input_stride : 2 * input_stride))));
      in = 4 * filters;
    }
    stages_.push_back(register_module("stage" + std::to_string(stage + 2), units));
    specs_.push_back({"res" + std::to_string(stage + 2), in, tracker.stride()});
  }
}

Features AxialResNetImpl::forward(const torch::Tensor& x) {
  Features features;
  torch::Tensor y = stem_->forward(x);
  for (size_t i = 0; i < stages_.size(); ++i) {
    y = stages_[i]->forward(y);
    features[specs_[i].name] = torch::relu(y);
  }
  return features;
}

}  // namespace deeplab::models
