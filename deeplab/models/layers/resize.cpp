#include "deeplab/models/layers/resize.h"

#include <ATen/ops/upsample_bilinear2d.h>

#include <string>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/core/jit_compat.h"

namespace deeplab::models {
namespace {

void check_nchw(const torch::Tensor& x) {
  if (x.dim() != 4) throw Error("resize_bilinear: expected an NCHW tensor, got " + std::to_string(x.dim()) + " dims");
}

}  // namespace

torch::Tensor resize_bilinear(const torch::Tensor& x, const torch::Tensor& like, bool align_corners) {
  check_nchw(x);
  if (like.dim() < 2) throw Error("resize_bilinear: the size reference needs at least 2 dims");
  const int64_t h_dim = like.dim() - 2;
  if (core::jit_compat::is_tracing()) core::jit_compat::stash_sizes_of("output_size", like, h_dim, 2);
  return at::upsample_bilinear2d(x, {like.size(h_dim), like.size(h_dim + 1)}, align_corners);
}

torch::Tensor resize_bilinear(const torch::Tensor& x, int64_t height, int64_t width, bool align_corners) {
  check_nchw(x);
  if (height <= 0 || width <= 0) {
    throw Error("resize_bilinear: output size " + std::to_string(height) + "x" + std::to_string(width) +
                " must be positive");
  }
  return at::upsample_bilinear2d(x, {height, width}, align_corners);
}

torch::Tensor resize_bilinear_scale(const torch::Tensor& x, double scale, bool align_corners) {
  check_nchw(x);
  if (!(scale > 0)) throw Error("resize_bilinear_scale: scale " + std::to_string(scale) + " must be positive");
  const std::vector<double> scales = {scale, scale};
  return at::upsample_bilinear2d(x, c10::nullopt, align_corners, scales);
}

}  // namespace deeplab::models
