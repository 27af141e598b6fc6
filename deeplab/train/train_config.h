#pragma once
// `train:` section of an experiment config: optimisation and bookkeeping.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"

namespace deeplab::train {

struct OptimizerConfig {
  std::string name = "sgd";
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 1e-4;
  /// Exclude norm-layer parameters and biases from weight decay.
  bool no_decay_norm_bias = false;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("name", name, one_of({"sgd", "adam", "adamw"}));
    v("momentum", momentum, in_half_open(0, 1));
    v("nesterov", nesterov);
    v("weight_decay", weight_decay, non_negative());
    v("no_decay_norm_bias", no_decay_norm_bias);
  }
};

struct ScheduleConfig {
  std::string name = "poly";
  double power = 0.9;
  double min_lr = 0.0;
  int warmup_iters = 0;
  double warmup_factor = 0.1;
  std::vector<int> steps;  // for `step`
  double gamma = 0.1;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("name", name, one_of({"poly", "step", "cosine", "constant"}));
    v("power", power, positive());
    v("min_lr", min_lr, non_negative());
    v("warmup_iters", warmup_iters, non_negative());
    v("warmup_factor", warmup_factor, in_range(0, 1));
    v("steps", steps, at_least(1));
    v("gamma", gamma, positive());
  }
};

struct TrainConfig {
  int max_iters = 30000;
  double lr = 0.007;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  std::string amp = "none";
  int accumulate = 1;
  double clip_grad_norm = 0.0;  // 0: no clipping
  bool freeze_bn = false;
  int log_every = 20;
  int checkpoint_every = 1000;
  int keep_checkpoints = 3;
  int eval_every = 0;           // 0: only at the end

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("max_iters", max_iters, at_least(1));
    v("lr", lr, positive());
    v.section("optimizer", optimizer);
    v.section("schedule", schedule);
    v("amp", amp, one_of({"none", "bf16", "fp16"}));
    v("accumulate", accumulate, at_least(1));
    v("clip_grad_norm", clip_grad_norm, non_negative());
    v("freeze_bn", freeze_bn);
    v("log_every", log_every, at_least(1));
    v("checkpoint_every", checkpoint_every, at_least(1));
    v("keep_checkpoints", keep_checkpoints, at_least(1));
    v("eval_every", eval_every, non_negative());
  }
};

}  // namespace deeplab::train
