#include "deeplab/models/model_bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "deeplab/core/bench_stats.h"
#include "deeplab/core/cuda_device.h"
#include "deeplab/core/error.h"
#include "deeplab/models/inference.h"
#include "deeplab/models/outputs.h"
#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

namespace {

// Best time of `repeats` calls of `op` after one warm-up (thread pool,
// buffers); on a GPU the clock is read only after the queued work is done.
template <class Op>
double best_seconds(const Op& op, int repeats, c10::Device device) {
  op();
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    core::synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    op();
    core::synchronize(device);
    best = std::min(best, seconds_since(start));
  }
  return best;
}

}  // namespace

double measure_gemm_gflops(int64_t n, int repeats, c10::Device device) {
  torch::NoGradGuard no_grad;
  const double flops = 2.0 * static_cast<double>(n) * n * n;
  const auto on_device = torch::TensorOptions().device(device);
  // The BLAS GEMM (torch::mm) ...
  const auto a = torch::randn({n, n}, on_device), b = torch::randn({n, n}, on_device);
  const double blas = flops / best_seconds([&] { return torch::mm(a, b); }, repeats, device);
  // ... and the same product as a 1x1 convolution, channels-last: oneDNN's
  // GEMM kernels, which the model's convolutions use and which beat
  // OpenBLAS here.  The peak is the faster of the two.
  const int64_t side = static_cast<int64_t>(std::sqrt(static_cast<double>(n)));
  const auto x = torch::randn({1, n, side, n / side}, on_device).contiguous(at::MemoryFormat::ChannelsLast);
  const auto w = torch::randn({n, n, 1, 1}, on_device).contiguous(at::MemoryFormat::ChannelsLast);
  const double conv = 2.0 * static_cast<double>(n) * n * side * (n / side) /
                      best_seconds([&] { return torch::conv2d(x, w); }, repeats, device);
  return std::max(blas, conv) / 1e9;
}

ModelBenchResult benchmark_model(DeepLabImpl& model, const ModelBenchOptions& o) {
  if (o.height < 1 || o.width < 1 || o.batch < 1 || o.iterations < 1 || o.warmup < 0 || o.profile_passes < 0) {
    throw ConfigError("bench model: size, batch and iterations must be positive (got " + std::to_string(o.height) +
                      "x" + std::to_string(o.width) + ", batch " + std::to_string(o.batch) + ", " +
                      std::to_string(o.iterations) + " iterations)");
  }
  ModelBenchResult r;
  r.macs_per_image = summarize(model, o.height, o.width, 0).conv_macs;
  r.folded_bn = prepare_for_inference(model, o.inference).folded;
  torch::NoGradGuard no_grad;
  const auto device = module_device(model);
  const auto input = torch::randn({o.batch, 3, o.height, o.width}).to(device);
  auto forward = [&] { return infer_outputs(model, input, o.inference).at(output_name::kSemantic).value; };
  core::reset_peak_device_memory(device);
  for (int i = 0; i < o.warmup; ++i) forward();
  for (int i = 0; i < o.iterations; ++i) {
    core::synchronize(device);  // nothing of the warm-up or the last pass is still queued
    const auto start = std::chrono::steady_clock::now();
    forward();
    core::synchronize(device);
    r.milliseconds.push_back(seconds_since(start) * 1e3);
  }
  r.peak_device_mib = core::peak_device_memory_mib(device);
  if (o.profile_passes > 0) {  // apart from the timed passes: the profiler's clock reads cost a little
    core::OpProfiler profiler;
    for (int i = 0; i < o.profile_passes; ++i) forward();
    core::synchronize(device);
    r.op_stats = profiler.stats();
  }
  r.median_ms = core::percentile(r.milliseconds, 0.5);
  r.p90_ms = core::percentile(r.milliseconds, 0.9);
  r.images_per_second = static_cast<double>(o.batch) * 1e3 / r.median_ms;
  r.achieved_gflops = 2.0 * r.macs_per_image * static_cast<double>(o.batch) / (r.median_ms * 1e-3) / 1e9;
  r.gemm_peak_gflops = measure_gemm_gflops(1024, 5, device);
  r.peak_rss_mib = core::peak_rss_mib();
  return r;
}

}  // namespace deeplab::models
