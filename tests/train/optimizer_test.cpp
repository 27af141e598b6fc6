// Parameter groups: the model's head parameters (as the model declares them,
// not by name) train at head_lr_mult, norm parameters and biases never get
// weight decay when no_decay_norm_bias is on, for every model.norm.

#include "deeplab/train/optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::train {
namespace {

using TensorSet = std::set<const torch::TensorImpl*>;

TensorSet impls(const std::vector<torch::Tensor>& tensors) {
  TensorSet out;
  for (const auto& t : tensors) out.insert(t.unsafeGetTensorImpl());
  return out;
}

TEST(Optimizer, HeadMultiplierAndNoDecayGroups) {
  models::ModelConfig m;
  m.backbone.name = "mobilenet_v3_small";
  auto model = models::build_model(m);
  TrainConfig c;
  c.lr = 0.01;
  c.optimizer.head_lr_mult = 10;
  c.optimizer.no_decay_norm_bias = true;
  GroupedOptimizer optimizer(*model, model->head_parameters(), c);
  EXPECT_EQ(optimizer.num_groups(), 4u);  // {backbone, head} x {decay, no decay}
  optimizer.set_lr(0.02);
  std::set<double> lrs;
  int64_t grouped = 0;
  for (size_t g = 0; g < optimizer.num_groups(); ++g) {
    lrs.insert(optimizer.group_lr(g));
    for (const auto& p : optimizer.optimizer().param_groups()[g].params()) grouped += p.numel();
  }
  EXPECT_EQ(lrs, (std::set<double>{0.02, 0.2}));
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  EXPECT_EQ(grouped, total);  // every parameter in exactly one group
}

TEST(Optimizer, VggFc6Fc7TrainAtTheBackboneLr) {
  models::ModelConfig m;
  m.arch = "deeplabv1";
  m.num_classes = 3;
  m.backbone.name = "vgg16";
  m.backbone.output_stride = 8;
  auto model = models::build_model(m);
  TrainConfig c;
  c.optimizer.head_lr_mult = 10;
  GroupedOptimizer optimizer(*model, model->head_parameters(), c);
  optimizer.set_lr(1.0);
  auto params = model->named_parameters();
  for (size_t g = 0; g < optimizer.num_groups(); ++g) {
    const TensorSet members = impls(optimizer.optimizer().param_groups()[g].params());
    const double lr = optimizer.group_lr(g);
    for (const char* key : {"classifier.fc6.weight", "classifier.fc7.weight", "backbone.0.weight"}) {
      if (members.count(params[key].unsafeGetTensorImpl())) {
        EXPECT_EQ(lr, 1.0) << key;
      }
    }
    if (members.count(params["classifier.fc8.weight"].unsafeGetTensorImpl())) {
      EXPECT_EQ(lr, 10.0);
    }
  }
}

class NormNoDecay : public ::testing::TestWithParam<std::string> {};

TEST_P(NormNoDecay, NormParametersNeverGetWeightDecay) {
  models::ModelConfig m;
  m.arch = "deeplabv3plus";
  m.backbone.name = "mobilenet_v3_small";
  m.aux_loss = false;
  m.norm = GetParam();
  auto model = models::build_model(m);
  TrainConfig c;
  c.optimizer.weight_decay = 1e-4;
  c.optimizer.no_decay_norm_bias = true;
  GroupedOptimizer optimizer(*model, model->head_parameters(), c);
  TensorSet norm, decayed, no_decay;
  for (const auto& module : model->modules()) {
    if (models::is_norm_layer(*module)) {
      for (const auto& p : module->parameters(false)) norm.insert(p.unsafeGetTensorImpl());
    }
  }
  for (auto& group : optimizer.optimizer().param_groups()) {
    const double decay = static_cast<torch::optim::SGDOptions&>(group.options()).weight_decay();
    for (const auto& p : group.params()) (decay > 0 ? decayed : no_decay).insert(p.unsafeGetTensorImpl());
  }
  ASSERT_FALSE(norm.empty());
  for (const auto* p : norm) EXPECT_EQ(decayed.count(p), 0u);
  if (GetParam() != "frozen_bn") {
    for (const auto* p : norm) EXPECT_EQ(no_decay.count(p), 1u);  // trained, without decay
  } else {
    for (const auto* p : norm) EXPECT_EQ(no_decay.count(p), 0u);  // frozen: not trained at all
  }
}

INSTANTIATE_TEST_SUITE_P(EveryNorm, NormNoDecay, ::testing::Values("bn", "frozen_bn", "sync_bn"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace deeplab::train
