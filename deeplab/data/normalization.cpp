#include "deeplab/data/normalization.h"

#include <ATen/ATen.h>
#include <opencv2/core.hpp>

#include "deeplab/core/error.h"

namespace deeplab::data {

Normalization Normalization::from(const std::vector<double>& mean, const std::vector<double>& std) {
  if (mean.size() != 3 || std.size() != 3) throw ConfigError("data.mean and data.std need three values (R, G, B)");
  Normalization n;
  for (size_t c = 0; c < 3; ++c) {
    n.mean[c] = static_cast<float>(mean[c]);
    n.std[c] = static_cast<float>(std[c]);
  }
  return n;
}

cv::Mat to_rgb8(const at::Tensor& chw, const Normalization& normalization) {
  const auto options = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor mean = at::tensor(at::ArrayRef<float>(normalization.mean.data(), 3), options).view({3, 1, 1});
  const at::Tensor std = at::tensor(at::ArrayRef<float>(normalization.std.data(), 3), options).view({3, 1, 1});
  const at::Tensor rgb = ((chw.to(at::kCPU).to(at::kFloat) * std + mean) * 255.0).round().clamp(0, 255).to(at::kByte);
  const at::Tensor hwc = rgb.permute({1, 2, 0}).contiguous();
  return cv::Mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>())
      .clone();
}

}  // namespace deeplab::data
