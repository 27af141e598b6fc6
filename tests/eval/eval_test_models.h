#pragma once
// Small models for the eval tests.  With default BatchNorm statistics (0, 1)
// a randomly initialised network's outputs fade to per-channel constants, and
// an identity test on a constant would prove little; so, as
// scripts/fixtures/torchvision_parity.py does, BN gets random affine
// parameters and running statistics calibrated on random batches.

#include <torch/torch.h>

#include "deeplab/models/factory.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::testing {

/// A seeded DeepLab of `config` in eval mode with randomised, calibrated BatchNorm.
inline models::DeepLab small_random_model(const models::ModelConfig& config, uint64_t seed = 3) {
  torch::manual_seed(seed);
  models::DeepLab model = models::build_model(config);
  torch::NoGradGuard no_grad;
  std::vector<models::Norm2dImpl*> bns;
  for (const auto& m : model->modules(false)) {
    if (auto* bn = m->as<models::Norm2dImpl>()) bns.push_back(bn);
  }
  for (auto* bn : bns) {
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.normal_(0, 0.1);
    bn->reset_running_stats();
    bn->options.momentum(c10::nullopt);  // cumulative average over the calibration batches
  }
  model->train();
  for (int i = 0; i < 2; ++i) model->forward(torch::randn({2, 3, 64, 64}));
  for (auto* bn : bns) {
    bn->running_mean.add_(torch::randn_like(bn->running_mean) * 0.1 * bn->running_var.sqrt());
    bn->running_var.mul_(torch::rand_like(bn->running_var) * 0.4 + 0.8);
    bn->options.momentum(0.1);
  }
  model->eval();
  return model;
}

}  // namespace deeplab::testing
