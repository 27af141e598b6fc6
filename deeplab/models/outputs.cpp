#include "deeplab/models/outputs.h"

#include <ATen/ATen.h>

#include <sstream>

namespace deeplab::models {

std::string output_name::msc(double scale) {
  std::ostringstream name;
  name << "msc/" << scale;
  return name.str();
}

namespace {
// How far one output pixel moves when an h-pixel side becomes `to` pixels.
double size_ratio(int64_t to, int64_t from, bool align_corners) {
  if (align_corners) return from > 1 ? static_cast<double>(to - 1) / static_cast<double>(from - 1) : 1.0;
  return static_cast<double>(to) / static_cast<double>(from);
}
}  // namespace

at::Tensor resize_output(const ModelOutput& output, int64_t height, int64_t width, bool align_corners) {
  const at::Tensor& x = output.value;
  if (x.size(2) == height && x.size(3) == width) return x;
  at::Tensor resized = at::upsample_bilinear2d(x, {height, width}, align_corners);
  if (output.kind != OutputKind::kOffsets) return resized;
  const double ry = size_ratio(height, x.size(2), align_corners), rx = size_ratio(width, x.size(3), align_corners);
  const at::Tensor ratios = at::tensor({ry, rx}, resized.options()).view({1, 2, 1, 1});
  return resized * ratios;
}

at::Tensor flip_output(const ModelOutput& output) {
  at::Tensor flipped = output.value.flip({3});
  if (output.kind != OutputKind::kOffsets) return flipped;
  const at::Tensor signs = at::tensor({1.0, -1.0}, flipped.options()).view({1, 2, 1, 1});
  return flipped * signs;
}

}  // namespace deeplab::models
