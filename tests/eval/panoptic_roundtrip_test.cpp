// Round trip of the panoptic pipeline: the ground-truth targets of synthetic
// Cityscapes-layout scenes (one-hot semantics, the target center heatmap and
// offsets, crowd as ignore) fed to the post-processing reproduce the
// ground-truth panoptic segmentation: PQ >= 99 % with stuff area limit 0.
// What differs, if anything, is printed per class.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <iostream>

#include "deeplab/data/cityscapes_labels.h"
#include "deeplab/data/panoptic_targets.h"
#include "deeplab/data/synth/scene_generator.h"
#include "deeplab/eval/panoptic_quality.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::eval {
namespace {

std::vector<int> cityscapes_things() {
  std::vector<int> things;
  for (const auto& l : data::cityscapes_labels()) {
    if (l.has_instances && l.train_id >= 0 && l.train_id < 255) things.push_back(l.train_id);
  }
  return things;
}

data::Sample synthetic_sample(uint64_t seed) {
  const data::synth::Scene scene = data::synth::render_cityscapes_scene(256, 512, seed);
  const auto to_train = data::cityscapes_id_to_train_id();
  data::Sample s{"scene" + std::to_string(seed), scene.image, scene.label.clone(), scene.instances.clone()};
  s.label.forEach<uint8_t>([&](uint8_t& v, const int*) { v = to_train[v]; });
  return s;
}

at::Tensor tensor_of(const cv::Mat& m, at::ScalarType type) {
  const int cv_type = type == at::kFloat ? CV_32F : CV_32S;
  cv::Mat converted;
  m.convertTo(converted, CV_MAKETYPE(cv_type, m.channels()));
  auto t = torch::from_blob(converted.data, {m.rows, m.cols, m.channels()}, type).clone();
  return t.permute({2, 0, 1}).contiguous();  // [C, H, W]
}

TEST(PanopticRoundTrip, GroundTruthTargetsReproduceTheGroundTruth) {
  const std::vector<int> things = cityscapes_things();
  data::PanopticTargetOptions target_options;
  target_options.thing_ids = things;
  target_options.crowd_as_ignore = true;
  postprocess::PanopticOptions post;
  post.thing_ids = things;
  post.stuff_area = 0;
  post.top_k = 0;
  std::vector<postprocess::PanopticCategory> categories;
  for (int c = 0; c < data::kCityscapesNumTrainClasses; ++c) {
    categories.push_back(
        {c, data::cityscapes_label_by_train_id(c)->name, std::find(things.begin(), things.end(), c) != things.end()});
  }
  PanopticQuality pq(categories);
  for (uint64_t seed = 0; seed < 12; ++seed) {
    data::Sample sample = synthetic_sample(seed);
    const data::PanopticTargets targets = data::make_panoptic_targets(sample, target_options);
    const at::Tensor label = tensor_of(sample.label, at::kInt).squeeze(0).to(at::kLong);
    const at::Tensor one_hot =
        torch::one_hot(label.clamp_max(data::kCityscapesNumTrainClasses), data::kCityscapesNumTrainClasses + 1)
            .permute({2, 0, 1})
            .narrow(0, 0, data::kCityscapesNumTrainClasses)
            .to(at::kFloat);
    const auto prediction = postprocess::panoptic_from_outputs(one_hot, tensor_of(targets.center, at::kFloat),
                                                               tensor_of(targets.offset, at::kFloat), post);
    const auto gt =
        postprocess::ground_truth_segmentation(label, tensor_of(sample.instances, at::kInt).squeeze(0), things, 255);
    const auto pred = postprocess::predicted_segmentation(prediction.panoptic, post.label_divisor);
    pq.add(gt.ids.data(), gt.segments, pred.ids.data(), pred.segments, gt.ids.size(), sample.id);
  }
  const PanopticResult result = pq.result();
  std::cout << format_panoptic_table(result, /*per_class=*/false);
  for (const auto& c : result.per_class) {
    if (c.counts.fp + c.counts.fn > 0) {
      std::cout << "  differs: " << c.category.name << " tp " << c.counts.tp << " fp " << c.counts.fp << " fn "
                << c.counts.fn << "\n";
    }
  }
  EXPECT_GE(result.all.pq, 0.99);
  EXPECT_GT(result.things.n, 0);
}

}  // namespace
}  // namespace deeplab::eval
