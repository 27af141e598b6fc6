// deeplab::Segmenter, the public API: its label maps equal `deeplab
// predict`'s (from a config and weights, and from an export) on the real VOC
// photo, the batch form equals single calls, probabilities are a softmax
// whose argmax is the labels, a panoptic model's ids and segments equal the
// panoptic PNG predict writes, and bad input is a clear error.

#include "deeplab/segmenter.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <set>
#include <sstream>

#include "deeplab/core/config_io.h"
#include "deeplab/data/sample_io.h"
#include "deeplab/models/model_config.h"
#include "deeplab/weights/state_dict.h"
#include "tests/eval/eval_test_models.h"
#include "tests/support/test_support.h"

namespace deeplab {
namespace {

// A config of `model_yaml` with random (calibrated) weights, as the predict
// tests make them.
struct RandomModel {
  testing::TempDir dir;
  std::string config, weights;

  RandomModel(const std::string& model_yaml, const std::string& data_yaml) {
    std::ostringstream yaml;
    yaml << "_base_: [" << testing::source_path("configs/_base_/default_runtime.yaml") << "]\n"
         << "model: " << model_yaml << "\n"
         << "data: " << data_yaml << "\n"
         << "runtime: {threads: 2}\n";
    config = dir.write("exp.yaml", yaml.str());
    const auto model_config = core::load_config_section<models::ModelConfig>(config, "model");
    weights = dir.file("w.pth");
    weights::save_module_state_dict(*testing::small_random_model(model_config, 11), weights);
  }
};

std::string voc_photo() {
  const std::string samples = testing::samples_dir();
  return samples.empty() ? "" : samples + "/voc2012/JPEGImages/2007_000063.jpg";
}

RandomModel voc_model() {
  return RandomModel("{arch: deeplabv3, num_classes: 21, backbone: {name: mobilenet_v3_small, output_stride: 16}}",
                     "{dataset: voc, root: unused, workers: 1}");
}

cv::Mat as_int(const cv::Mat& labels) {
  cv::Mat out;
  labels.convertTo(out, CV_32S);
  return out;
}

int64_t differing_pixels(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size()) return -1;
  return cv::countNonZero(a != b);
}

SegmenterOptions two_threads() {
  SegmenterOptions o;
  o.threads = 2;
  return o;
}

TEST(Segmenter, FromConfigLabelsEqualDeeplabPredictOnTheVocPhoto) {
  const std::string photo = voc_photo();
  if (photo.empty()) GTEST_SKIP() << "../shared/samples not found";
  RandomModel m = voc_model();
  const auto r = testing::run_deeplab("predict -c " + m.config + " --weights " + m.weights + " " + photo + " --out " +
                                      m.dir.file("out") + " --no-color --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat expected = as_int(data::read_label_png(m.dir.file("out/2007_000063.png")));

  const Segmenter segmenter = Segmenter::from_config(m.config, m.weights, two_threads());
  EXPECT_EQ(segmenter.class_names().size(), 21u);
  EXPECT_FALSE(segmenter.is_panoptic());
  const cv::Mat image = cv::imread(photo, cv::IMREAD_COLOR);
  const Segmentation result = segmenter.segment(image);
  ASSERT_EQ(result.labels.type(), CV_32SC1);
  ASSERT_EQ(result.labels.size(), image.size());
  EXPECT_EQ(differing_pixels(result.labels, expected), 0);
  std::set<int> classes(result.labels.begin<int32_t>(), result.labels.end<int32_t>());
  EXPECT_GE(classes.size(), 2u) << "a one-class prediction would prove little";
  EXPECT_TRUE(result.probabilities.empty());
  EXPECT_TRUE(result.panoptic.empty());

  // Colours are the palette's (BGR), the overlay blends them in.
  const cv::Mat colours = segmenter.colorize(result);
  const int label = result.labels.at<int32_t>(100, 200);
  const auto rgb = segmenter.palette().at(static_cast<size_t>(label));
  EXPECT_EQ(colours.at<cv::Vec3b>(100, 200), cv::Vec3b(rgb[2], rgb[1], rgb[0]));
  const cv::Mat overlay = segmenter.overlay(image, result, 0.5);
  EXPECT_EQ(overlay.size(), image.size());
  EXPECT_EQ(overlay.type(), CV_8UC3);
}

TEST(Segmenter, FromExportLabelsEqualDeeplabPredictModel) {
  const std::string photo = voc_photo();
  if (photo.empty()) GTEST_SKIP() << "../shared/samples not found";
  RandomModel m = voc_model();
  const std::string model = m.dir.file("m.pt");
  auto r = testing::run_deeplab("export -c " + m.config + " --weights " + m.weights + " -o " + model +
                                " --input-size 65 65");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("predict --model " + model + " " + photo + " --out " + m.dir.file("out") +
                           " --no-color --no-progress --set runtime.threads=2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat expected = as_int(data::read_label_png(m.dir.file("out/2007_000063.png")));

  const Segmenter segmenter = Segmenter::from_export(model, two_threads());
  EXPECT_EQ(segmenter.class_names().at(15), "person");
  EXPECT_EQ(differing_pixels(segmenter.segment(cv::imread(photo)).labels, expected), 0);
}

TEST(Segmenter, BatchEqualsSingleCallsAndProbabilitiesAreTheSoftmaxOfTheLabels) {
  RandomModel m = voc_model();
  SegmenterOptions options = two_threads();
  options.probabilities = true;
  const Segmenter segmenter = Segmenter::from_config(m.config, m.weights, options);
  cv::RNG rng(7);
  std::vector<cv::Mat> images;
  for (const auto& size : {cv::Size(48, 40), cv::Size(48, 40), cv::Size(33, 57)}) {  // two of one size, then another
    cv::Mat image(size, CV_8UC3);
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    images.push_back(image);
  }
  const std::vector<Segmentation> batch = segmenter.segment(images);
  ASSERT_EQ(batch.size(), 3u);
  for (size_t i = 0; i < images.size(); ++i) {
    const Segmentation single = segmenter.segment(images[i]);
    ASSERT_EQ(batch[i].labels.size(), images[i].size());
    EXPECT_EQ(differing_pixels(batch[i].labels, single.labels), 0) << "image " << i;
    const cv::Mat& p = batch[i].probabilities;
    ASSERT_EQ(p.dims, 3);
    ASSERT_EQ(p.size[0], 21);
    ASSERT_EQ(p.size[1], images[i].rows);
    ASSERT_EQ(p.size[2], images[i].cols);
    for (int y = 0; y < p.size[1]; y += 7) {
      for (int x = 0; x < p.size[2]; x += 5) {
        double sum = 0, best = -1;
        int argmax = -1;
        for (int c = 0; c < p.size[0]; ++c) {
          const float v = p.at<float>(c, y, x);
          sum += v;
          if (v > best) best = v, argmax = c;
        }
        EXPECT_NEAR(sum, 1.0, 1e-4);
        EXPECT_EQ(argmax, batch[i].labels.at<int32_t>(y, x));
      }
    }
  }
}

TEST(Segmenter, PanopticIdsAndSegmentsEqualThePanopticPngPredictWrites) {
  const std::string photo = voc_photo();
  if (photo.empty()) GTEST_SKIP() << "../shared/samples not found";
  RandomModel m("{arch: panoptic_deeplab, num_classes: 19, backbone: {name: mobilenet_v3_small, output_stride: 32}}",
                "{dataset: cityscapes_panoptic, root: unused, workers: 1, panoptic: {center_threshold: 0.0}}");
  auto r = testing::run_deeplab("predict -c " + m.config + " --weights " + m.weights + " " + photo + " --out " +
                                m.dir.file("out") + " --no-color --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const cv::Mat png = cv::imread(m.dir.file("out/panoptic/2007_000063.png"), cv::IMREAD_COLOR);  // BGR
  ASSERT_FALSE(png.empty());

  const Segmenter segmenter = Segmenter::from_config(m.config, m.weights, two_threads());
  ASSERT_TRUE(segmenter.is_panoptic());
  const Segmentation result = segmenter.segment(cv::imread(photo));
  ASSERT_EQ(result.panoptic.type(), CV_32SC1);
  ASSERT_EQ(result.panoptic.size(), png.size());
  int64_t differing = 0;
  for (int y = 0; y < png.rows; ++y) {
    for (int x = 0; x < png.cols; ++x) {
      const cv::Vec3b bgr = png.at<cv::Vec3b>(y, x);
      differing += result.panoptic.at<int32_t>(y, x) != bgr[2] + 256 * bgr[1] + 65536 * bgr[0];
    }
  }
  EXPECT_EQ(differing, 0);
  ASSERT_FALSE(result.segments.empty());
  int64_t area = 0;
  for (const Segment& s : result.segments) {
    EXPECT_EQ(cv::countNonZero(result.panoptic == s.id), s.area) << "segment " << s.id;
    EXPECT_GE(s.class_index, 0);
    EXPECT_LT(s.class_index, 19);
    EXPECT_EQ(s.is_thing, s.class_index >= 11) << "Cityscapes things are train ids 11-18";
    area += s.area;
  }
  EXPECT_EQ(area + cv::countNonZero(result.panoptic == 0), result.panoptic.total());
}

TEST(Segmenter, BadInputIsAClearError) {
  RandomModel m = voc_model();
  try {
    Segmenter::from_export(m.dir.file("missing.pt"));
    FAIL() << "a missing export loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pt"), std::string::npos) << e.what();
  }
  try {
    Segmenter::from_config(m.config, m.dir.file("absent.pth"));
    FAIL() << "missing weights loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.pth"), std::string::npos) << e.what();
  }
  const Segmenter segmenter = Segmenter::from_config(m.config, m.weights, two_threads());
  try {
    segmenter.segment(cv::Mat());
    FAIL() << "an empty image was segmented";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("the image is empty"), std::string::npos) << e.what();
  }
  EXPECT_THROW(segmenter.segment(cv::Mat(8, 8, CV_32FC3, cv::Scalar(0))), std::runtime_error);
  SegmenterOptions bad;
  bad.amp = "fp8";
  try {
    Segmenter::from_config(m.config, m.weights, bad);
    FAIL() << "amp fp8 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("eval.amp"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab
