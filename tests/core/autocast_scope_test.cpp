// The autocast wrapper (1.x and 2.4+ call names): a scope switches autocast
// on for its device and restores the previous state, ops inside run in the
// mode's dtype, and modes a device cannot run are errors naming the key.

#include "deeplab/core/autocast_scope.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

torch::Tensor conv_output(c10::Device device) {
  torch::manual_seed(0);
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3));
  conv->to(device);
  return conv(torch::randn({1, 3, 9, 9}, torch::TensorOptions().device(device)));
}

TEST(AutocastScope, Bf16OnCpuCastsConvolutionsAndRestores) {
  const c10::Device cpu(c10::kCPU);
  ASSERT_FALSE(autocast_enabled(c10::DeviceType::CPU));
  {
    AutocastScope scope("bf16", cpu);
    EXPECT_TRUE(autocast_enabled(c10::DeviceType::CPU));
    EXPECT_EQ(autocast_dtype(c10::DeviceType::CPU), c10::kBFloat16);
    EXPECT_EQ(conv_output(cpu).scalar_type(), c10::kBFloat16);
  }
  EXPECT_FALSE(autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(conv_output(cpu).scalar_type(), c10::kFloat);
}

TEST(AutocastScope, NoneLeavesAutocastOffAndNestedScopesRestore) {
  const c10::Device cpu(c10::kCPU);
  {
    AutocastScope none("none", cpu);
    EXPECT_FALSE(autocast_enabled(c10::DeviceType::CPU));
  }
  {
    AutocastScope outer("bf16", cpu);
    {
      AutocastScope inner("bf16", cpu);
      EXPECT_TRUE(autocast_enabled(c10::DeviceType::CPU));
    }
    EXPECT_TRUE(autocast_enabled(c10::DeviceType::CPU)) << "the inner scope switched the outer one off";
  }
  EXPECT_FALSE(autocast_enabled(c10::DeviceType::CPU));
}

TEST(AutocastScope, ModesTheDeviceCannotRunNameTheKey) {
  try {
    AutocastScope scope("fp16", c10::Device(c10::kCPU), "eval.amp");
    ADD_FAILURE() << "fp16 on the CPU was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("eval.amp: fp16 needs a CUDA device"), std::string::npos) << e.what();
  }
  try {
    AutocastScope scope("fp8", c10::Device(c10::kCPU));
    ADD_FAILURE() << "fp8 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.amp: 'fp8' is not one of none, bf16, fp16"), std::string::npos)
        << e.what();
  }
}

TEST(AutocastScope, Fp16AndBf16OnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible: CUDA autocast not checked";
  const c10::Device gpu(c10::kCUDA, 0);
  for (const auto& [mode, dtype] : {std::pair{"fp16", c10::kHalf}, std::pair{"bf16", c10::kBFloat16}}) {
    {
      AutocastScope scope(mode, gpu);
      EXPECT_TRUE(autocast_enabled(c10::DeviceType::CUDA)) << mode;
      EXPECT_FALSE(autocast_enabled(c10::DeviceType::CPU)) << mode;
      EXPECT_EQ(conv_output(gpu).scalar_type(), dtype) << mode;
    }
    EXPECT_FALSE(autocast_enabled(c10::DeviceType::CUDA)) << mode;
    EXPECT_EQ(conv_output(gpu).scalar_type(), c10::kFloat) << mode;
  }
}

}  // namespace
}  // namespace deeplab::core
