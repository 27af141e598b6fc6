#pragma once
// `train:` section of an experiment config: optimisation and bookkeeping.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"

namespace deeplab::train {

/// The train.optimizer.name values GroupedOptimizer can build, read from its
/// table (train/optimizer.cpp), so validation and construction cannot drift.
std::vector<std::string> optimizer_names();

struct OptimizerConfig {
  std::string name = "sgd";
  double momentum = 0.9;  // SGD momentum; Adam's beta1
  double beta2 = 0.999;   // Adam/AdamW
  double eps = 1e-8;      // Adam/AdamW (PyTorch's default; TF's and deeplab2's is 1e-7)
  bool nesterov = false;
  double weight_decay = 1e-4;
  /// Exclude norm-layer parameters and biases from weight decay.
  bool no_decay_norm_bias = false;
  /// Learning-rate multiplier of the model's new layers (what the model
  /// declares as its head: DeepLabImpl::head_parameters) vs the rest; DeepLab
  /// v1/v2 train the new classifier (fc8 on VGG) at x10.
  double head_lr_mult = 1.0;
  /// Learning-rate multiplier of the rest (the pretrained backbone);
  /// deeplab2's kMaX configs train it at x0.1.
  double backbone_lr_mult = 1.0;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("name", name, one_of(optimizer_names()));
    v("momentum", momentum, in_half_open(0, 1));
    v("beta2", beta2, in_half_open(0, 1));
    v("eps", eps, in_half_open(0, 1));
    v("nesterov", nesterov);
    v("weight_decay", weight_decay, non_negative());
    v("no_decay_norm_bias", no_decay_norm_bias);
    v("head_lr_mult", head_lr_mult, positive());
    v("backbone_lr_mult", backbone_lr_mult, positive());
  }
};

struct ScheduleConfig {
  std::string name = "poly";
  double power = 0.9;
  double min_lr = 0.0;
  int warmup_iters = 0;
  double warmup_factor = 0.1;  // lr at iteration 0 = base * factor, rising linearly
  std::vector<int> steps;      // for `step`: iterations where lr *= gamma
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

struct LossConfig {
  /// Bootstrapped hard-pixel mining: the fraction of the hardest valid pixels
  /// that count (DeepLab's top_k_percent_pixels); 1 = all pixels.
  double top_k_percent = 1.0;
  double label_smoothing = 0.0;
  std::vector<double> class_weights;  // empty: all 1
  double aux_weight = 0.4;
  /// Weights of the terms each semantic output gets (train/region_losses.h);
  /// 0 leaves a term out.  Cross-entropy carries top_k_percent,
  /// label_smoothing and class_weights; focal carries class_weights as its alpha.
  double cross_entropy = 1.0;
  double dice = 0.0;
  double lovasz_softmax = 0.0;
  double focal = 0.0;
  double focal_gamma = 2.0;  // Lin et al.'s best gamma
  double dice_smooth = 1.0;
  /// Panoptic-DeepLab's term weights (deeplab2: semantic 1, center 200, offset 0.01).
  double semantic_weight = 1.0;
  double center_weight = 200.0;
  double offset_weight = 0.01;
  /// MaX-DeepLab's terms (kmax_deeplab; train/max_loss.h), deeplab2's
  /// Cityscapes and COCO R50 values: the PQ-style class and dice terms, the
  /// mask-ID cross-entropy, and instance discrimination over
  /// instance_sample_k pixels drawn at instance_sample_temperature.
  double pq_weight = 3.0;
  double mask_id_weight = 0.3;
  double instance_weight = 1.0;
  int instance_sample_k = 4096;
  double instance_sample_temperature = 0.6;  // deeplab2 default (Cityscapes); COCO 1.5
  double instance_temperature = 0.3;         // of the pixel embeddings' similarities

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("top_k_percent", top_k_percent, in_range(0.001, 1));
    v("label_smoothing", label_smoothing, in_half_open(0, 1));
    v("class_weights", class_weights, non_negative());
    v("aux_weight", aux_weight, non_negative());
    v("cross_entropy", cross_entropy, non_negative());
    v("dice", dice, non_negative());
    v("lovasz_softmax", lovasz_softmax, non_negative());
    v("focal", focal, non_negative());
    v("focal_gamma", focal_gamma, non_negative());
    v("dice_smooth", dice_smooth, non_negative());
    v("semantic_weight", semantic_weight, non_negative());
    v("center_weight", center_weight, non_negative());
    v("offset_weight", offset_weight, non_negative());
    v("pq_weight", pq_weight, non_negative());
    v("mask_id_weight", mask_id_weight, non_negative());
    v("instance_weight", instance_weight, non_negative());
    v("instance_sample_k", instance_sample_k, at_least(1));
    v("instance_sample_temperature", instance_sample_temperature, non_negative());
    v("instance_temperature", instance_temperature, positive());
  }
};

/// `train.ema`: an exponential moving average of the weights
/// (train/weight_average.h), evaluated beside them (best_ema.pth,
/// final_ema.pth) and kept in checkpoints.
struct EmaConfig {
  bool enabled = false;
  double decay = 0.9998;  // per step; the average spans about 1 / (1 - decay) steps
  int start_iter = 0;     // until then the average follows the weights

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("enabled", enabled);
    v("decay", decay, in_half_open(0, 1));
    v("start_iter", start_iter, non_negative());
  }
};

struct TrainConfig {
  int max_iters = 30000;
  double lr = 0.007;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  LossConfig loss;
  EmaConfig ema;
  std::string amp = "none";     // bf16 (CPU autocast) or fp16 (CUDA, with loss scaling)
  int accumulate = 1;           // batches per optimizer step
  double clip_grad_norm = 0.0;  // 0: no clipping
  bool freeze_bn = false;       // retired: read as model.norm: frozen_bn (experiment/config.cpp)
  bool channels_last = false;
  bool skip_nonfinite = false;  // skip steps with a non-finite loss instead of stopping
  int log_every = 20;
  int checkpoint_every = 1000;
  int keep_checkpoints = 3;
  int eval_every = 0;       // 0: only at the end
  int vis_samples = 4;      // rows of val_samples.png
  bool tensorboard = true;  // event files beside metrics.jsonl (train/tensorboard_hook.h)

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("max_iters", max_iters, at_least(1));
    v("lr", lr, positive());
    v.section("optimizer", optimizer);
    v.section("schedule", schedule);
    v.section("loss", loss);
    v.section("ema", ema);
    v("amp", amp, one_of({"none", "bf16", "fp16"}));
    v("accumulate", accumulate, at_least(1));
    v("clip_grad_norm", clip_grad_norm, non_negative());
    v("freeze_bn", freeze_bn);
    v("channels_last", channels_last);
    v("skip_nonfinite", skip_nonfinite);
    v("log_every", log_every, at_least(1));
    v("checkpoint_every", checkpoint_every, at_least(1));
    v("keep_checkpoints", keep_checkpoints, at_least(1));
    v("eval_every", eval_every, non_negative());
    v("vis_samples", vis_samples, non_negative());
    v("tensorboard", tensorboard);
  }
};

}  // namespace deeplab::train
