// The models on a GPU: forward and backward equal the CPU's, channels-last
// equals the default layout, and fp16/bf16 autocast stays close to fp32.
// Every test skips without a visible GPU (scripts/gpu/check.sh runs them on a
// lent one).  The comparisons of devices and layouts run in float64: in
// float32 a randomly initialised ResNet-50 in training mode (batch statistics
// of 70 values at stride 16) turns summation-order differences into 2e-4 of
// the logits and a quarter of some gradients (seen on an H200, TF32 off), so
// no float32 tolerance would tell a device bug from rounding.  In float64 the
// devices agree to 3.6e-7 of the logits and 7.4e-6 of the worst gradient
// (H200, 2026-12-04): more than float64 rounding alone, less than any
// mistake of a CUDA path, which moves the logits by their own size.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/autocast_scope.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/outputs.h"

namespace deeplab::models {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible: CUDA model paths not checked"

// Relative distance max|a - b| / max(1, max|b|).
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.to(torch::kCPU, torch::kDouble), y = b.to(torch::kCPU, torch::kDouble);
  return (x - y).abs().max().item<double>() / std::max(1.0, y.abs().max().item<double>());
}

// DeepLabv3+ on a ResNet-50 (output stride 16, the decoder and ASPP): the
// convolutions, dilations, BN, bilinear resizes and concatenations of the
// family in one graph.  Without the head's dropout: its masks come from the
// CPU or the CUDA generator, and in memory order, so two devices or layouts
// would drop different pixels of the same image.
DeepLab seeded_model(const std::string& arch, const std::string& backbone) {
  torch::manual_seed(7);
  ModelConfig m;
  m.arch = arch;
  m.num_classes = 5;
  m.backbone.name = backbone;
  m.head.channels = 32;
  m.head.dropout = 0.0;
  return build_model(m);
}

struct Pass {
  torch::Tensor logits;
  std::vector<torch::Tensor> grads;
};

// One float64 training-mode forward and backward of `model` (moved to
// `device`) on `x`.
Pass forward_backward(DeepLab model, const torch::Tensor& x, c10::Device device, bool channels_last = false) {
  model->to(device, torch::kDouble);
  model->train();
  auto input = x.to(device, torch::kDouble);
  if (channels_last) {  // as the trainer does for train.channels_last
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
    input = input.contiguous(at::MemoryFormat::ChannelsLast);
  }
  Pass pass;
  pass.logits = model->forward_outputs(input).at(output_name::kSemantic).value;
  (pass.logits * torch::linspace(-1, 1, pass.logits.numel(), pass.logits.options()).view(pass.logits.sizes()))
      .sum()
      .backward();
  for (const auto& p : model->parameters()) {
    if (p.grad().defined()) pass.grads.push_back(p.grad().cpu());
  }
  return pass;
}

TEST(CudaModel, ForwardAndBackwardEqualTheCpu) {
  SKIP_WITHOUT_GPU();
  for (const auto& [arch, backbone] :
       {std::pair{"deeplabv3plus", "resnet50"}, std::pair{"deeplabv3", "mobilenet_v3_large"}}) {
    const auto x = torch::randn({2, 3, 97, 65});
    const Pass cpu = forward_backward(seeded_model(arch, backbone), x, c10::kCPU);
    const Pass gpu = forward_backward(seeded_model(arch, backbone), x, c10::Device(c10::kCUDA, 0));
    EXPECT_LT(relative_error(gpu.logits, cpu.logits), 1e-5) << arch << " " << backbone;
    ASSERT_EQ(gpu.grads.size(), cpu.grads.size());
    double worst = 0;
    for (size_t i = 0; i < cpu.grads.size(); ++i) worst = std::max(worst, relative_error(gpu.grads[i], cpu.grads[i]));
    // Gradients sum over the batch and the pixels in other orders on the GPU.
    EXPECT_LT(worst, 1e-4) << arch << " " << backbone;
  }
}

TEST(CudaModel, ChannelsLastEqualsTheDefaultLayout) {
  SKIP_WITHOUT_GPU();
  const auto x = torch::randn({2, 3, 97, 65});
  const c10::Device gpu(c10::kCUDA, 0);
  const Pass plain = forward_backward(seeded_model("deeplabv3plus", "resnet50"), x, gpu);
  const Pass last = forward_backward(seeded_model("deeplabv3plus", "resnet50"), x, gpu, /*channels_last=*/true);
  EXPECT_LT(relative_error(last.logits, plain.logits), 1e-9);
}

TEST(CudaModel, AutocastFp16AndBf16StayCloseToFp32) {
  SKIP_WITHOUT_GPU();
  const c10::Device gpu(c10::kCUDA, 0);
  DeepLab model = seeded_model("deeplabv3plus", "resnet50");
  model->to(gpu);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, 129, 129}).to(gpu);
  const auto fp32 = model->forward_outputs(x).at(output_name::kSemantic).value;
  for (const auto& [mode, dtype, tolerance] :
       {std::tuple{"fp16", c10::kHalf, 1e-2}, std::tuple{"bf16", c10::kBFloat16, 5e-2}}) {
    torch::Tensor low, feature;
    {
      core::AutocastScope autocast(mode, gpu, "eval.amp");
      low = model->forward_outputs(x).at(output_name::kSemantic).value;
      feature = model->backbone().forward(x).at(model->backbone().out_name());
    }
    // The convolutions run in the low precision.  The logits themselves come
    // out of the last bilinear resize, which PyTorch 2.x's autocast runs in
    // fp32 (1.13 kept the input's type).
    EXPECT_EQ(feature.scalar_type(), dtype) << mode;
    EXPECT_TRUE(low.scalar_type() == dtype || low.scalar_type() == c10::kFloat) << mode << ": " << low.scalar_type();
    EXPECT_LT(relative_error(low.to(torch::kFloat), fp32), tolerance) << mode;
    // Nearly every pixel keeps its class.
    const double same = low.argmax(1).eq(fp32.argmax(1)).to(torch::kDouble).mean().item<double>();
    EXPECT_GT(same, 0.99) << mode;
  }
}

}  // namespace
}  // namespace deeplab::models
