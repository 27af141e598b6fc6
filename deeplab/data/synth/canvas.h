#pragma once
// Drawing toolkit of the synthetic scene generator: colours that every class
// draws from the same distribution, textures, and shapes as masks. A class is
// defined by (shape, texture) only, so colour alone cannot tell classes apart.

#include <opencv2/core.hpp>

#include <cstdint>
#include <random>

namespace deeplab::data::synth {

// kStripes run horizontally and kColumns vertically; kRings are concentric
// around the patch's corner; kChevron is a zigzag of horizontal bands; kGrid is
// thin lines on a plain field; kNoise is blotches of the two colours, kClouds
// blends them smoothly (no edges).
enum class Texture { kPlain, kStripes, kColumns, kChecker, kDots, kDiagonal, kChevron, kRings, kNoise, kClouds, kGrid };
enum class Shape { kEllipse, kRectangle, kTriangle, kStar, kRing, kDiamond };

/// An RGB colour from the one distribution all classes and backgrounds share.
cv::Vec3b random_color(std::mt19937_64& rng);

/// Integer in [lo, hi] and double in [lo, hi).
int rand_int(std::mt19937_64& rng, int lo, int hi);
double rand_real(std::mt19937_64& rng, double lo, double hi);

/// A `size` RGB patch of `texture` in two random colours, with a random
/// period scaled by `scale` (pixels of the pattern's unit).
cv::Mat make_texture(Texture texture, cv::Size size, double scale, std::mt19937_64& rng);

/// Fills `mask` (CV_8UC1, 255 inside) with `shape` centred at `center`, of
/// radius `radius`, rotated by `angle` radians.
void draw_shape(cv::Mat& mask, Shape shape, cv::Point2d center, double radius, double angle);

/// Copies `patch` (same size as `image`) into `image` where `mask` is set,
/// writes `value` into `label` there and `instance` into `instances` (if not empty).
void paint(cv::Mat& image, cv::Mat& label, cv::Mat& instances, const cv::Mat& mask, const cv::Mat& patch, int value,
           int instance);

}  // namespace deeplab::data::synth
