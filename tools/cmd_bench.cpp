// `deeplab bench loader [-c CONFIG] [--set k=v ...] [--batches N] [--warmup W]`:
// images/s of the training input pipeline (scripts/bench/loader.py compares it
// with a torchvision DataLoader doing the same work).
// `deeplab bench model -c CONFIG [--weights W] [--size HxW] [--batch B]
//  [--iters N] [--warmup W]`: inference latency (median, p90), images/s, peak
// RSS and achieved GFLOP/s against a measured GEMM peak (models/model_bench.h),
// and the core clock before and after (core/bench_stats.h);
// --fold-bn/--channels-last/--amp as in eval (default: the eval: section);
// --profile-ops N adds an op-level profile of N more passes (core/op_profile.h).
// `deeplab bench train -c CONFIG [--batch B] [--crop HxW] [--amp bf16]
//  [--channels-last] [--iters N]`: training step time (experiment/train_bench.h).

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "deeplab/core/bench_stats.h"
#include "deeplab/core/error.h"
#include "deeplab/core/logging.h"
#include "deeplab/core/op_profile.h"
#include "deeplab/core/runtime.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/loader_bench.h"
#include "deeplab/experiment/config.h"
#include "deeplab/experiment/inference_session.h"
#include "deeplab/experiment/train_bench.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/model_bench.h"
#include "deeplab/models/summary.h"
#include "deeplab/postprocess/mask_panoptic.h"
#include "deeplab/postprocess/panoptic_segments.h"
#include "deeplab/weights/model_io.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

// The caching allocator's peak, a line of its own on a GPU run.
std::string peak_gpu_line(c10::Device device, double mib) {
  if (!device.is_cuda()) return "";
  char line[96];
  std::snprintf(line, sizeof line, "  peak GPU memory %.0f MiB (allocated tensors)\n", mib);
  return line;
}

// "513x513" -> height, width; a ConfigError naming the flag otherwise.
void parse_size(const std::string& text, const std::string& flag, int64_t& height, int64_t& width) {
  if (std::sscanf(text.c_str(), "%ldx%ld", &height, &width) != 2) {
    throw ConfigError(flag + " '" + text + "': expected HxW, e.g. 513x513");
  }
}

// --panoptic: the post-processing of one forward's outputs (random weights
// unless --weights), timed on its own: mask-wise for a mask transformer,
// center grouping for Panoptic-DeepLab.
void time_panoptic_postprocess(models::DeepLabImpl& model, const experiment::Config& config, int64_t height,
                               int64_t width, int runs) {
  if (!models::is_panoptic(config.model))
    throw ConfigError("bench model --panoptic: " + config.model.arch + " is not a panoptic model");
  const postprocess::PanopticOptions options =
      postprocess::panoptic_eval_options(config.data, data::load_config_descriptor(config.data),
                                         models::is_mask_transformer(config.model))
          .postprocess;
  torch::NoGradGuard no_grad;
  model.eval();
  const c10::Device device = models::module_device(model);
  const models::ModelOutputs out = model.forward_outputs(torch::randn({1, 3, height, width}, device), false);
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (options.mask_wise) {
      postprocess::mask_panoptic_batch(out.at(models::output_name::kMaskLogits).value,
                                       out.at(models::output_name::kClassLogits).value, *options.mask_wise, height,
                                       width);
    } else {
      postprocess::panoptic_from_batch(out.at(models::output_name::kSemantic).value,
                                       out.at(models::output_name::kCenter).value,
                                       out.at(models::output_name::kOffset).value, options);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("  panoptic post-processing (%s) of one image at %ldx%ld: median %.1f ms over %d runs\n",
              !options.mask_wise                       ? "center grouping"
              : options.mask_wise->mode == "pixelwise" ? "pixel-wise, at the input size"
                                                       : "mask-wise, at the output stride",
              height, width, ms[ms.size() / 2], runs);
}

void add_bench_model(CLI::App& bench) {
  struct Args {
    std::string config, weights, size = "513x513";
    std::vector<std::string> sets, flag_sets;
    int64_t batch = 1;
    int iterations = 10, warmup = 2, profile_passes = 0;
    size_t profile_top = 25;
    bool panoptic = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = bench.add_subcommand("model", "inference latency, images/s, peak RSS, GFLOP/s vs the GEMM peak");
  cmd->add_option("-c,--config", args->config, "experiment YAML (the model section)")->required();
  cmd->add_option("--weights", args->weights, "weights to load (default: the initialisation; timing is the same)");
  cmd->add_option("--size", args->size, "input height x width")->capture_default_str();
  cmd->add_option("--batch", args->batch, "images per forward")->capture_default_str();
  cmd->add_option("--iters", args->iterations, "timed forward passes")->capture_default_str();
  cmd->add_option("--warmup", args->warmup, "untimed passes first")->capture_default_str();
  cmd->add_option("--set", args->sets, "override a key: --set runtime.threads=1 (repeatable)");
  cmd->add_option("--profile-ops", args->profile_passes,
                  "after the timed passes, run this many more under an op-level profiler and print the "
                  "operators by self time per pass (scripts/bench/op_profile.py compares it with Python's)");
  cmd->add_option("--profile-top", args->profile_top, "operators the profile lists")->capture_default_str();
  cmd->add_flag("--panoptic", args->panoptic,
                "also time the panoptic post-processing of one image's outputs (a panoptic model's config)");
  add_inference_flags(*cmd, args->flag_sets);
  cmd->callback([args] {
    experiment::SessionOptions session_options;
    session_options.prepare = false;     // benchmark_model folds and times it itself
    session_options.descriptor = false;  // only the network runs
    const experiment::InferenceSession session = experiment::open_session(
        experiment::load_config(args->config, with_flag_overrides(args->sets, args->flag_sets)), args->weights,
        session_options);
    const experiment::Config& config = session.config;
    models::ModelBenchOptions o;
    parse_size(args->size, "bench model --size", o.height, o.width);
    o.batch = args->batch;
    o.iterations = args->iterations;
    o.warmup = args->warmup;
    o.profile_passes = args->profile_passes;
    o.inference = config.eval.inference;
    const c10::Device device = session.device;
    models::DeepLab& model = *session.model;
    const double ghz_before = core::core_clock_ghz();
    const models::ModelBenchResult r = models::benchmark_model(*model, o);
    const double ghz_after = core::core_clock_ghz();
    char line[640];
    std::snprintf(line, sizeof line,
                  "model %s at %ldx%ld, batch %ld, %d thread(s), %s, BLAS %s\n"
                  "  %s (%d BN layers folded)\n"
                  "  latency median %.1f ms, p90 %.1f ms (%d passes); %.2f images/s\n"
                  "  %.2f GMACs/image -> %.1f GFLOP/s achieved = %.0f %% of the measured GEMM peak %.1f GFLOP/s\n"
                  "  peak RSS %.0f MiB; core clock %.2f GHz before, %.2f after\n%s",
                  weights::describe_arch(config.model).c_str(), o.height, o.width, o.batch, at::get_num_threads(),
                  device.str().c_str(), core::describe_blas().c_str(), o.inference.describe().c_str(), r.folded_bn,
                  r.median_ms, r.p90_ms, o.iterations, r.images_per_second, r.macs_per_image / 1e9, r.achieved_gflops,
                  100.0 * r.achieved_gflops / r.gemm_peak_gflops, r.gemm_peak_gflops, r.peak_rss_mib, ghz_before,
                  ghz_after, peak_gpu_line(device, r.peak_device_mib).c_str());
    std::cout << line;
    if (o.profile_passes > 0) {
      std::cout << "op profile over " << o.profile_passes << " pass(es), per pass:\n"
                << core::format_op_table(r.op_stats, o.profile_passes, args->profile_top);
    }
    if (args->panoptic) time_panoptic_postprocess(*model, config, o.height, o.width, 3);
  });
}

// --paced: one line on stdin per timed step, its time back on stdout at once.
void pace_from_stdin(experiment::TrainBenchOptions& o) {
  auto first = std::make_shared<bool>(true);
  o.before_timed_step = [first] {
    if (*first) std::cout << "ready" << std::endl;
    *first = false;
    std::string line;
    return static_cast<bool>(std::getline(std::cin, line));
  };
  o.after_timed_step = [](double ms) {
    char line[64];
    std::snprintf(line, sizeof line, "step %.1f ms", ms);
    std::cout << line << std::endl;
  };
}

void add_bench_train(CLI::App& bench) {
  struct Args {
    std::string config, crop = "321x321";
    std::vector<std::string> sets, flag_sets;
    int64_t batch = 4;
    int iterations = 10, warmup = 2;
    bool paced = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = bench.add_subcommand("train", "training step time and images/s (forward, loss, backward, update)");
  cmd->add_option("-c,--config", args->config, "experiment YAML (model and train sections)")->required();
  cmd->add_option("--crop", args->crop, "crop height x width")->capture_default_str();
  cmd->add_option("--batch", args->batch, "images per step")->capture_default_str();
  cmd->add_option("--iters", args->iterations, "timed steps")->capture_default_str();
  cmd->add_option("--warmup", args->warmup, "untimed steps first")->capture_default_str();
  cmd->add_option_function<std::string>(
         "--amp", [args](const std::string& mode) { args->flag_sets.push_back("train.amp=" + mode); },
         "autocast: none, bf16 (CPU) or fp16 (CUDA); train.amp")
      ->check(CLI::IsMember({"none", "bf16", "fp16"}));
  cmd->add_flag_callback(
      "--channels-last", [args] { args->flag_sets.push_back("train.channels_last=true"); },
      "weights and inputs channels-last (train.channels_last)");
  cmd->add_option("--set", args->sets, "override a key: --set train.optimizer=adamw (repeatable)");
  cmd->add_flag("--paced", args->paced,
                "print 'ready' after the warm-up, then before each timed step wait for a line on stdin (EOF "
                "ends the run) and print 'step <ms> ms': lets a driver interleave our steps one by one with "
                "another program's (scripts/bench/compare.py)");
  cmd->callback([args] {
    const experiment::Config config =
        experiment::load_config(args->config, with_flag_overrides(args->sets, args->flag_sets));
    core::set_config_log_level(config.runtime.log_level);
    experiment::TrainBenchOptions o;
    if (args->paced) pace_from_stdin(o);
    parse_size(args->crop, "bench train --crop", o.crop_height, o.crop_width);
    o.batch = args->batch;
    o.iterations = args->iterations;
    o.warmup = args->warmup;
    const double ghz_before = core::core_clock_ghz();
    const experiment::TrainBenchResult r = experiment::benchmark_training(config, o);
    const double ghz_after = core::core_clock_ghz();
    char line[640];
    std::snprintf(line, sizeof line,
                  "train %s, batch %ld, crop %ldx%ld, %s, %d thread(s), amp %s, %s, BLAS %s\n"
                  "  step median %.1f ms, p90 %.1f ms (%d steps); %.2f images/s; peak RSS %.0f MiB\n"
                  "  parts (medians): data %.1f ms, forward + loss %.1f ms, backward %.1f ms, update %.1f ms\n"
                  "  core clock %.2f GHz before, %.2f after\n%s",
                  weights::describe_arch(config.model).c_str(), o.batch, o.crop_height, o.crop_width, r.device.c_str(),
                  at::get_num_threads(), config.train.amp.c_str(),
                  config.train.channels_last ? "channels-last" : "NCHW", core::describe_blas().c_str(), r.median_ms,
                  r.p90_ms, static_cast<int>(r.milliseconds.size()), r.images_per_second, r.peak_rss_mib,
                  r.median_parts.data * 1e3, r.median_parts.forward * 1e3, r.median_parts.backward * 1e3,
                  r.median_parts.update * 1e3, ghz_before, ghz_after,
                  peak_gpu_line(c10::Device(r.device), r.peak_device_mib).c_str());
    std::cout << line;
  });
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "measure throughput");
  bench->require_subcommand(1);
  struct Args {
    std::string config, split;
    std::vector<std::string> sets;
    size_t batches = 20, warmup = 3;
  };
  auto args = std::make_shared<Args>();
  auto* loader = bench->add_subcommand("loader", "images/s of decode + training augmentation + collation");
  loader->add_option("-c,--config", args->config, "experiment YAML (default: built-in data defaults)");
  loader->add_option("--split", args->split, "split (default: data.train_split)");
  loader->add_option("--set", args->sets, "override a key: --set data.root=DIR (repeatable)");
  loader->add_option("--batches", args->batches, "timed batches")->capture_default_str();
  loader->add_option("--warmup", args->warmup, "untimed batches first")->capture_default_str();
  loader->callback([args] {
    experiment::Config config;
    if (!args->config.empty()) {
      config = experiment::load_config(args->config, args->sets);
    } else {
      core::ConfigTree tree;
      for (const auto& s : args->sets) core::apply_override(tree, s);
      config = experiment::config_from_tree(tree);
    }
    core::set_config_log_level(config.runtime.log_level);
    const auto r = data::benchmark_loader(config.data, static_cast<uint64_t>(config.runtime.seed),
                                          args->split.empty() ? config.data.train_split : args->split, args->batches,
                                          args->warmup);
    char line[256];
    std::snprintf(line, sizeof line,
                  "loader: %zu images in %.3f s = %.1f images/s (workers %d, batch %d, crop %dx%d)\n", r.images,
                  r.seconds, r.images_per_second(), r.workers, config.data.batch_size, config.data.crop_size[0],
                  config.data.crop_size[1]);
    std::cout << line;
  });
  add_bench_model(*bench);
  add_bench_train(*bench);
}

}  // namespace deeplab::tools
