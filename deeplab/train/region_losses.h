#pragma once
// The losses users add to cross-entropy on imbalanced data, each written
// from its paper: focal (Lin et al., ICCV 2017), soft Dice (Milletari et al.,
// 3DV 2016, the multi-class form of MMSegmentation's DiceLoss) and
// Lovász-softmax (Berman et al., CVPR 2018).  Pixels labelled `ignore` count
// for nothing.  Each returns sums over images or pixels; the caller divides
// by a global count (losses.h), so data-parallel training equals one process.

#include <torch/types.h>

namespace deeplab::train {

/// Σ over valid pixels of -w_t (1 - p_t)^gamma log p_t, with p_t the softmax
/// probability of the true class and w_t its class weight (undefined: 1).
/// gamma = 0 gives the (weighted) cross-entropy sum.
torch::Tensor focal_loss_sum(const torch::Tensor& logits, const torch::Tensor& labels, int ignore, double gamma,
                             const torch::Tensor& class_weights = {});

/// Per image ([N]): 1 - the mean over classes of
/// (2 Σ p_c g_c + smooth) / (Σ p_c + Σ g_c + smooth), sums over the image's
/// valid pixels, p the softmax probabilities, g the one-hot labels.
torch::Tensor dice_loss_per_image(const torch::Tensor& logits, const torch::Tensor& labels, int ignore,
                                  double smooth = 1.0);

/// Per image ([N]): the Lovász extension of the Jaccard loss of each class
/// present in the image's labels, over the sorted errors |g_c - p_c| of its
/// valid pixels, averaged over those classes (0 for an image with no valid
/// pixel).  Per image, Berman's `per_image=True`, so no sort spans images.
torch::Tensor lovasz_softmax_per_image(const torch::Tensor& logits, const torch::Tensor& labels, int ignore);

}  // namespace deeplab::train
