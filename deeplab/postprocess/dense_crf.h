#pragma once
// The fully connected CRF of DeepLab v1/v2 (Kraehenbuehl & Koltun, NIPS 2011)
// on a network's softmax: unary -log p at image size; pairwise Potts terms
// with a bilateral kernel w1 exp(-|dp|^2 / 2 xy1^2 - |dI|^2 / 2 rgb^2) and a
// spatial kernel w2 exp(-|dp|^2 / 2 xy2^2); mean-field inference,
// Q <- softmax(-unary + sum_m w_m K_m Q) (Potts: the other labels' mass is a
// per-pixel constant), with densecrf's symmetric kernel normalisation.
// The bilateral kernel is filtered on the permutohedral lattice (linear in
// pixels); the spatial one is an exact separable Gaussian on the pixel grid
// (what the lattice approximates there).  One image, one thread: callers
// spread images over threads.

#include <ATen/core/Tensor.h>

#include "deeplab/postprocess/dense_crf_options.h"

namespace deeplab::postprocess {

/// Refined probabilities [C, H, W] (float, CPU) of `probabilities` [C, H, W]
/// (a softmax at the size of `rgb`), given the image `rgb` uint8 [H, W, 3].
at::Tensor dense_crf(const at::Tensor& rgb, const at::Tensor& probabilities, const DenseCrfOptions& options);

}  // namespace deeplab::postprocess
