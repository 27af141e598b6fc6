#pragma once
// Bilinear resizes that stay size-generic when a model is traced for
// TorchScript export: sizes taken from another tensor are recorded as
// run-time size reads, so the exported file runs at any input size.

#include <torch/types.h>

#include <cstdint>

namespace deeplab::models {

/// Resizes NCHW `x` bilinearly to `like`'s height and width (its last two
/// dims); traced graphs read those sizes from `like` at run time.
torch::Tensor resize_bilinear(const torch::Tensor& x, const torch::Tensor& like, bool align_corners);

/// Resizes NCHW `x` to an explicit h x w (a constant in traced graphs).
torch::Tensor resize_bilinear(const torch::Tensor& x, int64_t height, int64_t width, bool align_corners);

/// Resizes NCHW `x` by `scale` (output floor(size * scale), as Python's
/// F.interpolate(scale_factor=...)); traced graphs compute the size at run time.
torch::Tensor resize_bilinear_scale(const torch::Tensor& x, double scale, bool align_corners);

}  // namespace deeplab::models
