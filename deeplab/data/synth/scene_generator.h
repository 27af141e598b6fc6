#pragma once
// Synthetic scenes for offline demos and tests: VOC-like object scenes and
// Cityscapes-like street scenes, each class a (shape, texture) pair drawn in
// colours from one shared distribution.

#include <opencv2/core.hpp>

#include <cstdint>

namespace deeplab::data::synth {

/// One rendered scene.
struct Scene {
  cv::Mat image;      // CV_8UC3 RGB
  cv::Mat label;      // CV_8UC1: VOC class index with 255 boundaries, or Cityscapes labelIds
  cv::Mat instances;  // CV_32SC1 Cityscapes instanceIds (id*1000+k, or id for stuff/crowd); empty for VOC
};

/// Number of distinct foreground classes the VOC layout can draw: six, the
/// fewest the data issue allows, so that every texture is unlike every other
/// in orientation or structure (grid, camouflage and crosshatch classes were
/// tried and were mistaken for dots) and a small network trained from scratch
/// separates them within the quickstart's ten minutes.
constexpr int kMaxVocObjectClasses = 6;

/// A VOC-layout scene: smooth background (class 0), 2-6 overlapping objects of
/// classes 1..num_classes at varied scales, and (with `void_boundaries`) a
/// 255 void band on object boundaries, as VOC draws them.
Scene render_voc_scene(int height, int width, int num_classes, uint64_t seed, bool void_boundaries = true);

/// A Cityscapes-layout scene (labelIds): sky, buildings, vegetation, road,
/// sidewalk, poles with signs, several cars, persons and bicycles as
/// instances, a crowd of persons without instance ids, and the ego vehicle.
Scene render_cityscapes_scene(int height, int width, uint64_t seed);

}  // namespace deeplab::data::synth
