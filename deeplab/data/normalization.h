#pragma once
// Input normalisation, defined once: x = (rgb / 255 - mean) / std per channel
// (ImageNet's statistics unless data.mean / data.std say otherwise), and its
// inverse for pictures.  Light on purpose: config structs include it.

#include <array>
#include <vector>

namespace at {
class Tensor;
}
namespace cv {
class Mat;
}

namespace deeplab::data {

/// ImageNet's per-channel statistics (RGB), which torchvision's weights expect.
inline constexpr std::array<double, 3> kImageNetMean{0.485, 0.456, 0.406};
inline constexpr std::array<double, 3> kImageNetStd{0.229, 0.224, 0.225};

struct Normalization {
  std::array<float, 3> mean{static_cast<float>(kImageNetMean[0]), static_cast<float>(kImageNetMean[1]),
                            static_cast<float>(kImageNetMean[2])};
  std::array<float, 3> std{static_cast<float>(kImageNetStd[0]), static_cast<float>(kImageNetStd[1]),
                           static_cast<float>(kImageNetStd[2])};

  /// From the config's lists (data.mean, data.std: three values each).
  static Normalization from(const std::vector<double>& mean, const std::vector<double>& std);
};

/// A normalised [3, H, W] float tensor (any device) back to an 8-bit RGB
/// image (CV_8UC3): the normalisation undone, rounded to nearest, clamped.
cv::Mat to_rgb8(const at::Tensor& chw, const Normalization& normalization);

}  // namespace deeplab::data
