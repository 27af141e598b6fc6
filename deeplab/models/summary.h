#pragma once
// What `deeplab model summary` prints: the module tree with parameter
// counts, the output stride, and the multiply-accumulates of one forward
// pass at a given input size (counted from the convolutions actually run).

#include <cstdint>
#include <string>

#include "deeplab/models/deeplab.h"

namespace deeplab::models {

struct ModelSummary {
  int64_t parameters = 0;
  int64_t trainable = 0;
  int64_t output_stride = 0;
  int64_t height = 0, width = 0;
  double conv_macs = 0;  // multiply-accumulates of all convolutions (FLOPs ~ 2x)
  std::string tree;      // indented "name  parameters" lines
};

/// Counts parameters per module (down to `depth` levels) and runs one
/// forward of a 1x3xHxW input in eval mode to count convolution MACs.
ModelSummary summarize(DeepLabImpl& model, int64_t height, int64_t width, int depth = 2);

/// Human-readable rendering of a summary.
std::string format_summary(const ModelSummary& summary, const std::string& title);

/// The number of weights in `module`'s parameters (BN statistics are buffers, not counted).
int64_t count_parameters(const torch::nn::Module& module);

/// The device of `module`'s first parameter; the CPU for a module without any.
torch::Device module_device(const torch::nn::Module& module);

/// 39638869 -> "39,638,869".
std::string with_thousands(int64_t value);

}  // namespace deeplab::models
