#include "deeplab/data/synth/canvas.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace deeplab::data::synth {

int rand_int(std::mt19937_64& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

double rand_real(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * (static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0));
}

cv::Vec3b random_color(std::mt19937_64& rng) {
  // Uniform hue, broad saturation and value: no class owns a colour region.
  cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(rand_int(rng, 0, 179), rand_int(rng, 40, 255), rand_int(rng, 50, 255)));
  cv::Mat rgb;
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
  return rgb.at<cv::Vec3b>(0, 0);
}

namespace {

constexpr double kMinTextureContrast = 80;  // RGB distance between a texture's two colours

bool pattern_bit(Texture t, int x, int y, int p, double phase) {
  switch (t) {
    case Texture::kStripes: return ((y + static_cast<int>(phase)) / p) % 2 == 0;
    case Texture::kColumns: return ((x + static_cast<int>(phase)) / p) % 2 == 0;
    case Texture::kChecker: return ((x / p) + (y / p)) % 2 == 0;
    case Texture::kDiagonal: return (((x + y + static_cast<int>(phase)) / p) % 2) == 0;
    case Texture::kDots: {
      const int cx = x % (2 * p) - p, cy = y % (2 * p) - p;
      return cx * cx + cy * cy < p * p / 2;
    }
    case Texture::kRings: return static_cast<int>(std::sqrt(double(x) * x + double(y) * y) / p) % 2 == 0;
    case Texture::kChevron: {
      const int tooth = std::abs(x % (2 * p) - p);  // 0..p and back: the zigzag's offset
      return ((y + tooth + static_cast<int>(phase)) / p) % 2 == 0;
    }
    case Texture::kGrid: return (x % (2 * p)) < std::max(1, p / 3) || (y % (2 * p)) < std::max(1, p / 3);
    default: return true;
  }
}

}  // namespace

cv::Mat make_texture(Texture texture, cv::Size size, double scale, std::mt19937_64& rng) {
  const cv::Vec3b a = random_color(rng);
  // Redraw the second colour until the pattern is visible: a texture in two
  // near-identical colours would carry no class information at all.
  cv::Vec3b b = random_color(rng);
  for (int tries = 0; tries < 32 && cv::norm(cv::Vec3d(a) - cv::Vec3d(b)) < kMinTextureContrast; ++tries) {
    b = random_color(rng);
  }
  cv::Mat patch(size, CV_8UC3, cv::Scalar(a[0], a[1], a[2]));
  const int p = std::max(2, static_cast<int>(std::lround(scale * rand_real(rng, 0.8, 1.25))));
  const double phase = rand_real(rng, 0, 2 * p);
  if (texture == Texture::kNoise || texture == Texture::kClouds) {
    // Low-resolution noise blown up: thresholded into blotches, or a smooth blend.
    cv::Mat small(std::max(2, size.height / p), std::max(2, size.width / p), CV_32F);
    for (int y = 0; y < small.rows; ++y)
      for (int x = 0; x < small.cols; ++x) small.at<float>(y, x) = static_cast<float>(rand_real(rng, 0, 1));
    cv::Mat big;
    cv::resize(small, big, size, 0, 0, cv::INTER_CUBIC);
    for (int y = 0; y < size.height; ++y)
      for (int x = 0; x < size.width; ++x) {
        const float v = big.at<float>(y, x);
        if (texture == Texture::kNoise) {
          if (v > 0.5f) patch.at<cv::Vec3b>(y, x) = b;
        } else {
          const float w = std::clamp(v, 0.0f, 1.0f);
          patch.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::Vec3f(a) * (1 - w) + cv::Vec3f(b) * w);
        }
      }
  } else if (texture != Texture::kPlain) {
    for (int y = 0; y < size.height; ++y)
      for (int x = 0; x < size.width; ++x)
        if (!pattern_bit(texture, x, y, p, phase)) patch.at<cv::Vec3b>(y, x) = b;
  }
  // Mild sensor-like noise so even plain regions are not flat; drawn from the
  // scene's own generator (cv::randn would use OpenCV's per-thread global
  // one, so a scene would depend on what the thread rendered before it).
  cv::Mat noise(size, CV_16SC3);
  cv::RNG noise_rng(rng());
  noise_rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(6));
  cv::Mat out;
  patch.convertTo(out, CV_16SC3);
  out += noise;
  out.convertTo(patch, CV_8UC3);
  return patch;
}

namespace {

std::vector<cv::Point> polygon(const std::vector<cv::Point2d>& unit, cv::Point2d c, double r, double angle) {
  std::vector<cv::Point> pts;
  const double cs = std::cos(angle), sn = std::sin(angle);
  for (const auto& u : unit) {
    pts.emplace_back(static_cast<int>(std::lround(c.x + r * (u.x * cs - u.y * sn))),
                     static_cast<int>(std::lround(c.y + r * (u.x * sn + u.y * cs))));
  }
  return pts;
}

void fill(cv::Mat& mask, const std::vector<cv::Point>& pts) {
  std::vector<std::vector<cv::Point>> polys{pts};
  cv::fillPoly(mask, polys, cv::Scalar(255));
}

std::vector<cv::Point2d> star_points() {
  std::vector<cv::Point2d> pts;
  for (int i = 0; i < 10; ++i) {
    const double a = i * CV_PI / 5, r = i % 2 == 0 ? 1.0 : 0.45;
    pts.emplace_back(r * std::cos(a), r * std::sin(a));
  }
  return pts;
}

}  // namespace

void draw_shape(cv::Mat& mask, Shape shape, cv::Point2d c, double r, double angle) {
  const cv::Point center(static_cast<int>(std::lround(c.x)), static_cast<int>(std::lround(c.y)));
  const double deg = angle * 180 / CV_PI;
  switch (shape) {
    case Shape::kEllipse:
      cv::ellipse(mask, center, cv::Size(static_cast<int>(r), static_cast<int>(r * 0.6)), deg, 0, 360, 255, -1);
      break;
    case Shape::kRectangle: fill(mask, polygon({{-1, -0.6}, {1, -0.6}, {1, 0.6}, {-1, 0.6}}, c, r, angle)); break;
    case Shape::kTriangle: fill(mask, polygon({{0, -1}, {0.87, 0.5}, {-0.87, 0.5}}, c, r, angle)); break;
    case Shape::kStar: fill(mask, polygon(star_points(), c, r, angle)); break;
    case Shape::kDiamond: fill(mask, polygon({{0, -1}, {0.55, 0}, {0, 1}, {-0.55, 0}}, c, r, angle)); break;
    case Shape::kRing:
      cv::circle(mask, center, static_cast<int>(r), 255, -1);
      cv::circle(mask, center, static_cast<int>(r * 0.55), 0, -1);
      break;
  }
}

void paint(cv::Mat& image, cv::Mat& label, cv::Mat& instances, const cv::Mat& mask, const cv::Mat& patch, int value,
           int instance) {
  patch.copyTo(image, mask);
  label.setTo(cv::Scalar(value), mask);
  if (!instances.empty()) instances.setTo(cv::Scalar(instance), mask);
}

}  // namespace deeplab::data::synth
