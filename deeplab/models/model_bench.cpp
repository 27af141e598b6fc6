#include "deeplab/models/model_bench.h"

#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "deeplab/core/error.h"
#include "deeplab/models/inference.h"
#include "deeplab/models/outputs.h"
#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The value below which `fraction` of the sorted samples lie (nearest rank).
double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace

double measure_gemm_gflops(int64_t n, int repeats) {
  torch::NoGradGuard no_grad;
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up (thread pool, BLAS buffers)
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    c = torch::mm(a, b);
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * static_cast<double>(n) * n * n / best / 1e9;
}

ModelBenchResult benchmark_model(DeepLabImpl& model, const ModelBenchOptions& o) {
  if (o.height < 1 || o.width < 1 || o.batch < 1 || o.iterations < 1 || o.warmup < 0) {
    throw ConfigError("bench model: size, batch and iterations must be positive (got " + std::to_string(o.height) +
                      "x" + std::to_string(o.width) + ", batch " + std::to_string(o.batch) + ", " +
                      std::to_string(o.iterations) + " iterations)");
  }
  ModelBenchResult r;
  r.macs_per_image = summarize(model, o.height, o.width, 0).conv_macs;
  r.folded_bn = prepare_for_inference(model, o.inference).folded;
  torch::NoGradGuard no_grad;
  const auto device = model.parameters().empty() ? torch::Device(torch::kCPU) : model.parameters().front().device();
  const auto input = torch::randn({o.batch, 3, o.height, o.width}).to(device);
  auto forward = [&] { return infer_outputs(model, input, o.inference).at(output_name::kSemantic).value; };
  for (int i = 0; i < o.warmup; ++i) forward();
  for (int i = 0; i < o.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto out = forward();
    if (out.is_cuda()) torch::cuda::synchronize();
    r.milliseconds.push_back(seconds_since(start) * 1e3);
  }
  r.median_ms = percentile(r.milliseconds, 0.5);
  r.p90_ms = percentile(r.milliseconds, 0.9);
  r.images_per_second = static_cast<double>(o.batch) * 1e3 / r.median_ms;
  r.achieved_gflops = 2.0 * r.macs_per_image * static_cast<double>(o.batch) / (r.median_ms * 1e-3) / 1e9;
  r.gemm_peak_gflops = measure_gemm_gflops();
  r.peak_rss_mib = peak_rss_mib();
  return r;
}

}  // namespace deeplab::models
