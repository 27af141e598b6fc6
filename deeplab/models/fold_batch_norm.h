#pragma once
// Batch-norm folding for inference: an eval-mode batch norm right after a
// convolution is an affine map per channel, y = (conv(x) - mean) * s + beta
// with s = gamma / sqrt(var + eps), so it can live in the convolution itself:
// W' = W * s (per output channel), b' = (b - mean) * s + beta.  The norm layer
// then passes its input through (Norm2dImpl::mark_folded), one memory pass
// less per layer, and the conv's bias add is fused into its kernel.
//
// Which norm follows which conv is read from the module tree, by the rules
// every model here is built with (no model declares its pairs):
//   - among children numbered in running order (a Sequential's, or layers a
//     head adopted from one), norm "k" follows conv "k-1";
//   - among named children, "bnK" follows "convK", "bn_X" and "X_bn" follow "X"
//     (ResNet's conv1/bn1, Xception's depthwise/bn_depthwise, shortcut/shortcut_bn);
//   - a partner that is a Sequential stands for its last child (ResNet's deep stem).
// A pair is folded only when the channel counts agree and the conv is claimed
// once; every other norm is left working and listed in the report, so folding
// never changes what the model computes beyond rounding.

#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace deeplab::models {

struct FoldReport {
  int folded = 0;                     // norm layers moved into their convolution
  std::vector<std::string> unfolded;  // qualified names of norm layers left as they are
};

/// Folds every conv -> norm pair of `model` in place (the model must be in
/// eval mode: running statistics are what is folded; it cannot train after).
FoldReport fold_batch_norms(torch::nn::Module& model);

}  // namespace deeplab::models
