#include "deeplab/data/transforms.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace deeplab::data {

double uniform(std::mt19937_64& rng, double lo, double hi) {
  const double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
  return lo + (hi - lo) * u;
}

double sample_scale(std::mt19937_64& rng, double lo, double hi, double step) {
  if (step <= 0 || hi <= lo) return uniform(rng, lo, hi);
  const int n = static_cast<int>(std::floor((hi - lo) / step + 1e-9)) + 1;
  const int k = std::min(n - 1, static_cast<int>(uniform(rng, 0, n)));
  return lo + step * k;
}

TransformOptions TransformOptions::from_config(const DataConfig& c, bool train) {
  TransformOptions o;
  o.train = train;
  o.crop_h = c.crop_size[0];
  o.crop_w = c.crop_size[1];
  o.scale_min = std::min(c.scale_range[0], c.scale_range[1]);
  o.scale_max = std::max(c.scale_range[0], c.scale_range[1]);
  o.scale_step = c.scale_step;
  o.flip = c.flip;
  o.photometric = c.photometric;
  for (int i = 0; i < 3; ++i)
    o.pad_color[static_cast<size_t>(i)] = static_cast<uint8_t>(std::lround(c.mean[static_cast<size_t>(i)] * 255));
  o.ignore_label = c.ignore_label;
  o.eval_pad_multiple = c.eval_pad_multiple;
  return o;
}

void Transform::apply(Sample& s, std::mt19937_64& rng) const {
  if (!options_.train) {
    const int m = options_.eval_pad_multiple;
    if (m > 0) pad_to(s, (s.image.rows + m - 1) / m * m, (s.image.cols + m - 1) / m * m);
    return;
  }
  random_scale(s, rng);
  pad_to(s, std::max(s.image.rows, options_.crop_h), std::max(s.image.cols, options_.crop_w));
  random_crop(s, rng);
  if (options_.flip && uniform(rng, 0, 1) < 0.5) {
    cv::flip(s.image, s.image, 1);
    cv::flip(s.label, s.label, 1);
    if (!s.instances.empty()) cv::flip(s.instances, s.instances, 1);
  }
  if (options_.photometric.enabled) photometric(s.image, rng);
}

void Transform::random_scale(Sample& s, std::mt19937_64& rng) const {
  const double scale = sample_scale(rng, options_.scale_min, options_.scale_max, options_.scale_step);
  if (std::abs(scale - 1.0) < 1e-9) return;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(s.image.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(s.image.rows * scale))));
  cv::resize(s.image, s.image, size, 0, 0, cv::INTER_LINEAR);
  cv::resize(s.label, s.label, size, 0, 0, cv::INTER_NEAREST);
  if (!s.instances.empty()) cv::resize(s.instances, s.instances, size, 0, 0, cv::INTER_NEAREST);
}

void Transform::pad_to(Sample& s, int height, int width) const {
  const int bottom = height - s.image.rows, right = width - s.image.cols;
  if (bottom <= 0 && right <= 0) return;
  const auto& c = options_.pad_color;
  cv::copyMakeBorder(s.image, s.image, 0, bottom, 0, right, cv::BORDER_CONSTANT, cv::Scalar(c[0], c[1], c[2]));
  cv::copyMakeBorder(s.label, s.label, 0, bottom, 0, right, cv::BORDER_CONSTANT, cv::Scalar(options_.ignore_label));
  if (!s.instances.empty()) {
    cv::copyMakeBorder(s.instances, s.instances, 0, bottom, 0, right, cv::BORDER_CONSTANT, cv::Scalar(0));
  }
}

void Transform::random_crop(Sample& s, std::mt19937_64& rng) const {
  const int h = options_.crop_h, w = options_.crop_w;
  const int y = static_cast<int>(uniform(rng, 0, s.image.rows - h + 1));
  const int x = static_cast<int>(uniform(rng, 0, s.image.cols - w + 1));
  const cv::Rect roi(x, y, w, h);
  // clone(): the crop must own contiguous memory for the batch copy later.
  s.image = s.image(roi).clone();
  s.label = s.label(roi).clone();
  if (!s.instances.empty()) s.instances = s.instances(roi).clone();
}

void Transform::photometric(cv::Mat& rgb, std::mt19937_64& rng) const {
  const auto& p = options_.photometric;
  // Draw every number up front so the stream does not depend on which branches run.
  const bool do_b = uniform(rng, 0, 1) < 0.5, do_c = uniform(rng, 0, 1) < 0.5;
  const bool do_s = uniform(rng, 0, 1) < 0.5, do_h = uniform(rng, 0, 1) < 0.5;
  const double beta = uniform(rng, -p.brightness, p.brightness);
  const double alpha = uniform(rng, p.contrast[0], p.contrast[1]);
  const double sat = uniform(rng, p.saturation[0], p.saturation[1]);
  const double hue = uniform(rng, -p.hue, p.hue);
  if (do_b || do_c) rgb.convertTo(rgb, -1, do_c ? alpha : 1.0, do_b ? beta : 0.0);
  if (!do_s && !do_h) return;
  cv::Mat hsv;
  cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);  // 8-bit: H in [0, 180)
  const int shift = static_cast<int>(std::lround(hue / 2.0));
  for (int y = 0; y < hsv.rows; ++y) {
    cv::Vec3b* row = hsv.ptr<cv::Vec3b>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      if (do_h) row[x][0] = static_cast<uint8_t>((row[x][0] + shift + 180) % 180);
      if (do_s) row[x][1] = cv::saturate_cast<uint8_t>(row[x][1] * sat);
    }
  }
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
}

}  // namespace deeplab::data
