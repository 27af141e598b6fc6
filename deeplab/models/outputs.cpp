#include "deeplab/models/outputs.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "deeplab/core/jit_compat.h"
#include "deeplab/models/layers/resize.h"

namespace deeplab::models {

std::string output_name::msc(double scale) {
  std::ostringstream name;
  name << "msc/" << scale;
  return name.str();
}

std::string output_name::layer(int layer, const std::string& name) {
  return "layer" + std::to_string(layer) + "/" + name;
}

bool follows_input_size(OutputKind kind) { return kind != OutputKind::kStrided && kind != OutputKind::kPerSlot; }

OutputKind output_kind_of(const std::string& name) {
  if (name == output_name::kCenter) return OutputKind::kHeatmap;
  if (name == output_name::kOffset) return OutputKind::kOffsets;
  if (name == output_name::kClassLogits) return OutputKind::kPerSlot;
  if (name == output_name::kMaskLogits || name == output_name::kPixelEmbedding) return OutputKind::kStrided;
  return OutputKind::kLogits;
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
  if (!follows_input_size(output.kind) || (x.size(2) == height && x.size(3) == width)) return x;
  at::Tensor resized = at::upsample_bilinear2d(x, {height, width}, align_corners);
  if (output.kind != OutputKind::kOffsets) return resized;
  const double ry = size_ratio(height, x.size(2), align_corners), rx = size_ratio(width, x.size(3), align_corners);
  const at::Tensor ratios = at::tensor({ry, rx}, resized.options()).view({1, 2, 1, 1});
  return resized * ratios;
}

at::Tensor resize_output_like(const ModelOutput& output, const at::Tensor& like, bool align_corners) {
  const int64_t h_dim = like.dim() - 2;
  if (!follows_input_size(output.kind)) return output.value;
  if (!core::jit_compat::is_tracing()) {
    return resize_output(output, like.size(h_dim), like.size(h_dim + 1), align_corners);
  }
  const at::Tensor& x = output.value;
  at::Tensor resized = resize_bilinear(x, like, align_corners);
  if (output.kind != OutputKind::kOffsets) return resized;
  // The same ratio as size_ratio, from shape tensors the tracer records
  // (plain ints would become constants of the export size).
  const at::Tensor to = at::_shape_as_tensor(like).slice(0, h_dim).to(at::kDouble);
  const at::Tensor from = at::_shape_as_tensor(x).slice(0, 2).to(at::kDouble);
  at::Tensor ratios = to / from;
  if (align_corners) {
    // (to - 1) / (from - 1), or 1 where from is 1; as arithmetic, not where():
    // ONNX's exporter types where()'s branches apart (double vs float).
    const at::Tensor wide = (from > 1).to(at::kDouble);
    ratios = wide * (to - 1) / (from - 1).clamp_min(1) + (1 - wide);
  }
  return resized * ratios.to(x.scalar_type()).view({1, 2, 1, 1});
}

void crop_padded_output(ModelOutput& output, int64_t padded_height, int64_t height, int64_t width) {
  at::Tensor& v = output.value;
  if (output.kind == OutputKind::kPerSlot) return;
  if (follows_input_size(output.kind)) {
    v = v.slice(2, 0, height).slice(3, 0, width);
    return;
  }
  const double stride = static_cast<double>(padded_height) / static_cast<double>(v.size(2));
  const auto keep = [&](int64_t n, int64_t size) {
    return std::min<int64_t>(size, static_cast<int64_t>(std::ceil(static_cast<double>(n) / stride)));
  };
  v = v.slice(2, 0, keep(height, v.size(2))).slice(3, 0, keep(width, v.size(3)));
}

at::Tensor flip_output(const ModelOutput& output) {
  if (output.kind == OutputKind::kPerSlot) return output.value;
  at::Tensor flipped = output.value.flip({3});
  if (output.kind != OutputKind::kOffsets) return flipped;
  const at::Tensor signs = at::tensor({1.0, -1.0}, flipped.options()).view({1, 2, 1, 1});
  return flipped * signs;
}

}  // namespace deeplab::models
