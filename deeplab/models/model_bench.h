#pragma once
// `deeplab bench model`: inference latency of a model at a given input size
// and batch (median and 90th percentile over timed passes after warm-up),
// images/s, peak resident memory, and the GFLOP/s the forward achieves (from
// the model summary's convolution MACs) against a GEMM peak measured on the
// same machine with the same threads.

#include <cstdint>
#include <vector>

#include "deeplab/core/op_profile.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/models/inference_options.h"

namespace deeplab::models {

struct ModelBenchOptions {
  int64_t height = 513, width = 513, batch = 1;
  int iterations = 10;         // timed forward passes
  int warmup = 2;              // untimed passes first
  InferenceOptions inference;  // folding, layout, autocast of the timed passes
  int profile_passes = 0;      // > 0: that many more passes after the timed ones, under core::OpProfiler
};

struct ModelBenchResult {
  std::vector<double> milliseconds;  // each timed pass, in order
  double median_ms = 0, p90_ms = 0;
  double images_per_second = 0;        // batch / median
  double macs_per_image = 0;           // convolution MACs of one image (model summary)
  double achieved_gflops = 0;          // 2 x MACs x batch / median
  double gemm_peak_gflops = 0;         // measure_gemm_gflops()
  double peak_rss_mib = 0;             // of the process, after the passes
  double peak_device_mib = 0;          // CUDA: the caching allocator's peak over the passes (0 on CPU)
  int folded_bn = 0;                   // BN layers folded (inference.fold_bn)
  std::vector<core::OpStat> op_stats;  // of the profiled passes (profile_passes), most self time first
};

/// Times `model` on random inputs: switched to eval mode and prepared as
/// options.inference says (prepare_for_inference: folding is in place), no autograd.
ModelBenchResult benchmark_model(DeepLabImpl& model, const ModelBenchOptions& options);

/// GFLOP/s of an n x n x n float32 matrix product on `device` (best of
/// `repeats`; the faster of the BLAS GEMM and the same product as a 1x1
/// convolution): what the convolutions could reach at most on this machine
/// and thread count.
double measure_gemm_gflops(int64_t n = 1024, int repeats = 5, c10::Device device = c10::Device(c10::kCPU));

}  // namespace deeplab::models
