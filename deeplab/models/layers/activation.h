#pragma once
// Activation modules LibTorch 1.13 lacks as nn modules, plus one factory so
// blocks can name their activation in their options.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>

#include <string>

namespace deeplab::models {

/// min(max(x, 0), 6) in place (MobileNet-V2), as torch's ReLU6(inplace) for
/// float32; for bfloat16 (train.amp: bf16) a clamp, because LibTorch 1.13's CPU
/// hardtanh has no bfloat16 backward.  The clamp's gradient differs only at
/// exactly 0 and 6.
class ReLU6Impl : public torch::nn::Module {
 public:
  torch::Tensor forward(torch::Tensor x);
};
TORCH_MODULE(ReLU6);

/// x * relu6(x + 3) / 6 (MobileNet-V3) in place, as torchvision's
/// Conv2dNormActivation(inplace=True): it follows a BN whose output nothing
/// else reads, and the out-of-place form allocated and wrote a second
/// activation-sized tensor 20 times per MobileNet-V3 pass
/// (scripts/bench/op_profile.py).  Autograd saves the input it needs.
class HardSwishImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(torch::Tensor x);
};
TORCH_MODULE(HardSwish);

/// relu6(x + 3) / 6 (MobileNet-V3 squeeze-excitation gate); no parameters.
class HardSigmoidImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(HardSigmoid);

/// The exact (erf) GELU, with its backward handed a contiguous gradient:
/// LibTorch 1.13's CPU gelu_backward is wrong for a gradient laid out
/// otherwise than the input (channels-last, or the permuted layout axial
/// attention's gradient arrives in), by the order of the gradient itself
/// and at times by 1e34 (tests/models/activation_test.cpp).
torch::Tensor gelu_activation(const torch::Tensor& x);

class GeluImpl : public torch::nn::Module {
 public:
  torch::Tensor forward(const torch::Tensor& x) { return gelu_activation(x); }
};
TORCH_MODULE(Gelu);

/// "relu" | "relu6" | "hardswish" | "gelu" -> a parameter-free module that works in
/// place: give it a tensor nothing else reads (a conv's or a BN's output).
torch::nn::AnyModule make_activation(const std::string& name);

}  // namespace deeplab::models
