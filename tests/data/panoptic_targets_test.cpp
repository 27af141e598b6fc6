// Panoptic-DeepLab targets against hand-computed values on small maps: center
// rounding, the Gaussian window, offsets, crowd/stuff/ignore weights, small
// instances, and the data.panoptic config section.

#include "deeplab/data/panoptic_targets.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <string>

#include "deeplab/core/config_io.h"
#include "deeplab/core/error.h"

namespace deeplab::data {
namespace {

constexpr uint8_t kStuff = 0, kCar = 1, kPerson = 2, kIgnore = 255;

/// An h x w sample of stuff class 0 with instance value 0 everywhere.
Sample blank(int h, int w) {
  Sample s;
  s.id = "frankfurt_000000_000294";
  s.image = cv::Mat::zeros(h, w, CV_8UC3);
  s.label = cv::Mat(h, w, CV_8UC1, cv::Scalar(kStuff));
  s.instances = cv::Mat::zeros(h, w, CV_32SC1);
  return s;
}

/// Paints rows [y0, y1) x cols [x0, x1) with a class and an instance value.
void paint(Sample& s, int y0, int y1, int x0, int x1, uint8_t cls, int32_t value) {
  const cv::Rect r(x0, y0, x1 - x0, y1 - y0);
  s.label(r).setTo(cls);
  s.instances(r).setTo(value);
}

PanopticTargetOptions options(double sigma = 1) {
  PanopticTargetOptions o;
  o.thing_ids = {kCar, kPerson};
  o.sigma = sigma;
  return o;
}

float heat(const PanopticTargets& t, int y, int x) { return t.center.at<float>(y, x); }
cv::Vec2f offset(const PanopticTargets& t, int y, int x) { return t.offset.at<cv::Vec2f>(y, x); }

TEST(PanopticTargets, OneInstanceCenterRoundsHalfToEvenAndOffsetsPointToIt) {
  Sample s = blank(12, 14);
  paint(s, 1, 5, 3, 5, kCar, 26000);  // rows 1..4 (mean 2.5 -> 2), cols 3..4 (mean 3.5 -> 4)
  const PanopticTargets t = make_panoptic_targets(s, options(1));
  ASSERT_EQ(t.center.type(), CV_32FC1);
  ASSERT_EQ(t.offset.type(), CV_32FC2);
  ASSERT_EQ(t.center.size(), cv::Size(14, 12));
  EXPECT_FLOAT_EQ(heat(t, 2, 4), 1.0f);
  EXPECT_FLOAT_EQ(heat(t, 3, 4), std::exp(-0.5f));  // exp(-1 / (2 sigma^2))
  EXPECT_FLOAT_EQ(heat(t, 2, 5), std::exp(-0.5f));
  EXPECT_FLOAT_EQ(heat(t, 2, 8), std::exp(-8.0f));  // sigma 1: window of 9, 4 each side
  EXPECT_EQ(heat(t, 2, 9), 0.0f);
  EXPECT_FLOAT_EQ(heat(t, 6, 4), std::exp(-8.0f));
  EXPECT_EQ(heat(t, 7, 4), 0.0f);
  EXPECT_EQ(heat(t, 7, 9), 0.0f);
  EXPECT_EQ(offset(t, 1, 3), cv::Vec2f(1, 1));  // (dy, dx) = center - pixel
  EXPECT_EQ(offset(t, 4, 4), cv::Vec2f(-2, 0));
  EXPECT_EQ(offset(t, 2, 4), cv::Vec2f(0, 0));
  EXPECT_EQ(offset(t, 8, 8), cv::Vec2f(0, 0));  // stuff
  EXPECT_EQ(t.offset_weight.at<float>(4, 3), 1.0f);
  EXPECT_EQ(cv::countNonZero(t.offset_weight), 8);

  Sample odd = blank(12, 14);
  paint(odd, 3, 5, 6, 7, kPerson, 1000);  // rows 3..4: mean 3.5 -> 4; Cityscapes numbers from 0
  const PanopticTargets u = make_panoptic_targets(odd, options(1));
  EXPECT_FLOAT_EQ(heat(u, 4, 6), 1.0f);
  EXPECT_EQ(offset(u, 3, 6), cv::Vec2f(1, 0));
}

TEST(PanopticTargets, DefaultSigmaDrawsA51PixelWindowClippedAtTheBorders) {
  Sample s = blank(64, 64);
  paint(s, 30, 31, 30, 31, kCar, 26003);
  paint(s, 0, 1, 0, 1, kPerson, 24000);  // in the corner: the window is clipped, not shifted
  const PanopticTargets t = make_panoptic_targets(s, options(8));
  EXPECT_FLOAT_EQ(heat(t, 30, 55), static_cast<float>(std::exp(-625.0 / 128)));  // 25 px away
  EXPECT_EQ(heat(t, 30, 56), 0.0f);
  EXPECT_FLOAT_EQ(heat(t, 30, 5), static_cast<float>(std::exp(-625.0 / 128)));
  EXPECT_EQ(heat(t, 30, 4), 0.0f);
  EXPECT_FLOAT_EQ(heat(t, 0, 0), 1.0f);
  EXPECT_FLOAT_EQ(heat(t, 0, 25), static_cast<float>(std::exp(-625.0 / 128)));
  EXPECT_EQ(heat(t, 0, 26), 0.0f);
}

TEST(PanopticTargets, TouchingInstancesGetTheirOwnCentersAndMaxMergedHeat) {
  Sample s = blank(10, 10);
  paint(s, 2, 5, 2, 5, kCar, 26000);  // center (3, 3)
  paint(s, 2, 5, 5, 8, kCar, 26001);  // adjacent, center (3, 6)
  const PanopticTargets t = make_panoptic_targets(s, options(1));
  EXPECT_FLOAT_EQ(heat(t, 3, 3), 1.0f);
  EXPECT_FLOAT_EQ(heat(t, 3, 6), 1.0f);
  EXPECT_FLOAT_EQ(heat(t, 3, 4), std::exp(-0.5f));  // max(exp(-1/2), exp(-4/2))
  EXPECT_FLOAT_EQ(heat(t, 3, 5), std::exp(-0.5f));
  EXPECT_FLOAT_EQ(heat(t, 0, 3), std::exp(-4.5f));  // max(exp(-9/2), exp(-18/2))
  EXPECT_EQ(offset(t, 3, 4), cv::Vec2f(0, -1));     // last pixel of 26000
  EXPECT_EQ(offset(t, 3, 5), cv::Vec2f(0, 1));      // first pixel of 26001
  EXPECT_EQ(offset(t, 4, 7), cv::Vec2f(-1, -1));
  EXPECT_EQ(cv::countNonZero(t.offset_weight), 18);
}

TEST(PanopticTargets, CrowdHasNoCenterOrOffsetLossAndKeepsItsClassUnlessAsked) {
  Sample s = blank(8, 8);
  paint(s, 0, 3, 0, 3, kCar, 26);  // < 1000 on a thing class: crowd
  paint(s, 5, 7, 5, 7, kCar, 26001);
  const PanopticTargets t = make_panoptic_targets(s, options(1));
  EXPECT_EQ(t.center_weight.at<float>(1, 1), 0.0f);
  EXPECT_EQ(t.offset_weight.at<float>(1, 1), 0.0f);
  EXPECT_EQ(t.semantic_weight.at<float>(1, 1), 1.0f);
  EXPECT_EQ(offset(t, 1, 1), cv::Vec2f(0, 0));
  EXPECT_EQ(s.label.at<uint8_t>(1, 1), kCar);
  EXPECT_EQ(t.center_weight.at<float>(6, 6), 1.0f);
  EXPECT_EQ(t.offset_weight.at<float>(6, 6), 1.0f);
  EXPECT_EQ(heat(t, 1, 1), 0.0f);  // no Gaussian of its own; instance (6, 6) is 5 px away

  PanopticTargetOptions o = options(1);
  o.crowd_as_ignore = true;
  Sample again = blank(8, 8);
  paint(again, 0, 3, 0, 3, kCar, 26);
  paint(again, 5, 7, 5, 7, kCar, 26001);
  const PanopticTargets u = make_panoptic_targets(again, o);
  EXPECT_EQ(again.label.at<uint8_t>(1, 1), kIgnore);
  EXPECT_EQ(again.label.at<uint8_t>(6, 6), kCar);
  EXPECT_EQ(again.label.at<uint8_t>(4, 4), kStuff);
  EXPECT_EQ(u.center_weight.at<float>(1, 1), 0.0f);
  EXPECT_EQ(u.offset_weight.at<float>(1, 1), 0.0f);
}

TEST(PanopticTargets, SmallInstancesWeighMoreBelowTheAreaThreshold) {
  Sample s = blank(64, 128);
  paint(s, 0, 64, 0, 64, kCar, 26000);  // 4096 px: not small
  paint(s, 0, 64, 64, 128, kCar, 26001);
  paint(s, 0, 1, 127, 128, kStuff, 0);   // 4095 px: small
  PanopticTargetOptions o = options(8);  // defaults: area 4096, weight 3
  const PanopticTargets t = make_panoptic_targets(s, o);
  EXPECT_EQ(t.semantic_weight.at<float>(10, 10), 1.0f);
  EXPECT_EQ(t.semantic_weight.at<float>(10, 100), 3.0f);
  EXPECT_EQ(t.semantic_weight.at<float>(0, 127), 1.0f);  // stuff

  o.small_instance_area = 4095;  // strict: 4095 is no longer small
  EXPECT_EQ(make_panoptic_targets(s, o).semantic_weight.at<float>(10, 100), 1.0f);
}

TEST(PanopticTargets, StuffCountsForCentersAndIgnoreDoesNot) {
  Sample s = blank(6, 6);
  paint(s, 0, 2, 0, 6, kIgnore, 0);
  paint(s, 4, 6, 4, 6, kCar, 26000);
  const PanopticTargets t = make_panoptic_targets(s, options(1));
  EXPECT_EQ(t.center_weight.at<float>(3, 0), 1.0f);  // stuff
  EXPECT_EQ(t.offset_weight.at<float>(3, 0), 0.0f);
  EXPECT_EQ(t.semantic_weight.at<float>(3, 0), 1.0f);
  EXPECT_EQ(t.center_weight.at<float>(0, 0), 0.0f);  // ignore
  EXPECT_EQ(t.offset_weight.at<float>(0, 0), 0.0f);
  EXPECT_EQ(t.semantic_weight.at<float>(0, 0), 1.0f);  // the loss zeroes ignore pixels itself
  EXPECT_EQ(cv::countNonZero(t.center_weight), 24);
  EXPECT_EQ(cv::countNonZero(t.offset_weight), 4);
}

TEST(PanopticTargets, InstanceValuesOnStuffPixelsAreNoInstance) {
  Sample s = blank(20, 20);
  paint(s, 0, 4, 0, 20, kStuff, 26000);   // e.g. the ego vehicle: an id on a non-thing class
  paint(s, 10, 12, 10, 12, kCar, 26000);  // the same value on thing pixels
  const PanopticTargets t = make_panoptic_targets(s, options(1));
  EXPECT_EQ(offset(t, 0, 0), cv::Vec2f(0, 0));
  EXPECT_EQ(t.offset_weight.at<float>(0, 0), 0.0f);
  EXPECT_EQ(t.center_weight.at<float>(0, 0), 1.0f);
  EXPECT_FLOAT_EQ(heat(t, 10, 10), 1.0f);  // mean (10.5, 10.5) -> (10, 10) from the car pixels only
  EXPECT_EQ(offset(t, 11, 11), cv::Vec2f(-1, -1));

  Sample stuff_only = blank(6, 6);
  paint(stuff_only, 0, 6, 0, 6, kStuff, 26000);
  const PanopticTargets u = make_panoptic_targets(stuff_only, options(1));
  EXPECT_EQ(cv::countNonZero(u.center), 0);
  EXPECT_EQ(cv::countNonZero(u.offset_weight), 0);
}

TEST(PanopticTargets, RejectsMissingInstancesAndBadOptions) {
  Sample s = blank(4, 4);
  s.instances = cv::Mat();
  try {
    make_panoptic_targets(s, options());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("frankfurt_000000_000294"), std::string::npos) << e.what();
  }
  s.instances = cv::Mat::zeros(4, 5, CV_32SC1);
  EXPECT_THROW(make_panoptic_targets(s, options()), DataError);
  EXPECT_THROW(PanopticTargetGenerator{options(0)}, ConfigError);
}

TEST(PanopticTargets, ConfigSectionDefaultsValidationAndOptions) {
  const DataConfig defaults;
  EXPECT_EQ(defaults.panoptic.sigma, 8);
  EXPECT_EQ(defaults.panoptic.small_instance_area, 4096);
  EXPECT_EQ(defaults.panoptic.nms_kernel, 13);
  EXPECT_EQ(defaults.panoptic.top_k, 400);
  EXPECT_EQ(defaults.panoptic.stuff_area, 2048);
  EXPECT_EQ(defaults.panoptic.label_divisor, 1000);

  core::ConfigTree tree;
  tree.root = YAML::Load("data: {panoptic: {sigma: 4, crowd_as_ignore: true, nms_kernel: 7, top_k: -1}}");
  DataConfig config;
  core::ConfigReader(tree.root, "", tree).section("data", config);
  EXPECT_EQ(config.panoptic.nms_kernel, 7);
  EXPECT_EQ(config.panoptic.top_k, -1);
  DatasetDescriptor d;
  d.things = {11, 12, 13};
  const PanopticTargetOptions o = panoptic_target_options(config, d);
  EXPECT_EQ(o.thing_ids, d.things);
  EXPECT_EQ(o.sigma, 4);
  EXPECT_TRUE(o.crowd_as_ignore);
  EXPECT_EQ(o.ignore_label, 255);

  for (const char* bad : {"{nms_kernel: 12}", "{sigma: 0}", "{center_threshold: 1.5}", "{label_divisor: 0}",
                          "{small_instance_area: -1}"}) {
    tree.root = YAML::Load(std::string("data: {panoptic: ") + bad + "}");
    DataConfig c;
    EXPECT_THROW(core::ConfigReader(tree.root, "", tree).section("data", c), ConfigError) << bad;
  }
}

}  // namespace
}  // namespace deeplab::data
