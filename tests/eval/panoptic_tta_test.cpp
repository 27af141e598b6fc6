// Test-time augmentation of panoptic outputs: scale {1} without flip is the
// model itself; a flip-equivariant toy whose offsets are (center - pixel)
// keeps its offsets and center heatmap under flip TTA (dx negated exactly
// once) and gets its offsets rescaled correctly at scales 0.5 and 2.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/inference/predictor.h"
#include "deeplab/models/factory.h"
#include "tests/eval/eval_test_models.h"

namespace deeplab::eval {
namespace {

using models::ModelOutputs;
using models::OutputKind;

// The bright blob of channel 0 is "the instance": offsets point from every
// pixel to its intensity-weighted centroid, the center output is a Gaussian
// there, the semantic logits are the intensity.  All in the input's own pixel
// grid, so the toy is exactly flip-equivariant.
ModelOutputs centroid_toy(const at::Tensor& images) {
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  const auto mass = images.select(1, 0);
  const auto ys = torch::arange(h, images.options()).view({1, h, 1});
  const auto xs = torch::arange(w, images.options()).view({1, 1, w});
  const auto total = mass.sum({1, 2}).view({n, 1, 1});
  const auto cy = (mass * ys).sum({1, 2}).view({n, 1, 1}) / total;
  const auto cx = (mass * xs).sum({1, 2}).view({n, 1, 1}) / total;
  const auto offsets = torch::stack({(cy - ys).expand({n, h, w}), (cx - xs).expand({n, h, w})}, 1);
  const auto center = torch::exp(-((ys - cy).square() + (xs - cx).square()) / (2 * 4.0 * 4.0)).unsqueeze(1);
  return {{"semantic", {torch::stack({mass, -mass}, 1), OutputKind::kLogits}},
          {"center", {center, OutputKind::kHeatmap}},
          {"offset", {offsets, OutputKind::kOffsets}}};
}

// A smooth blob well inside a 64 x 96 image, off-centre in x so that a
// flip without the dx sign change would show.
at::Tensor blob_image() {
  const auto ys = torch::arange(64, torch::kDouble).view({64, 1});
  const auto xs = torch::arange(96, torch::kDouble).view({1, 96});
  const auto blob = torch::exp(-((ys - 30).square() + (xs - 35).square()) / (2 * 6.0 * 6.0));
  return torch::stack({blob, torch::zeros_like(blob), torch::zeros_like(blob)}).unsqueeze(0);
}

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(PanopticTta, ScaleOneWithoutFlipIsThePlainModel) {
  models::ModelConfig c;
  c.arch = "panoptic_deeplab";
  c.num_classes = 4;
  c.backbone.name = "mobilenet_v3_small";
  models::DeepLab model = testing::small_random_model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, 64, 96});
  const auto plain = model->forward_outputs(x);
  inference::PredictorOptions o;  // scales {1}, no flip, no padding
  const inference::Predictor predictor(
      inference::OutputsFn([&](const at::Tensor& in) { return model->forward_outputs(in); }), o);
  const auto out = predictor.outputs(x);
  EXPECT_TRUE(torch::equal(out.at("center").value, plain.at("center").value));
  EXPECT_TRUE(torch::equal(out.at("offset").value, plain.at("offset").value));
  EXPECT_TRUE(torch::allclose(out.at("semantic").value, plain.at("semantic").value.softmax(1)));
}

TEST(PanopticTta, FlipKeepsOffsetsAndCentersOfAnEquivariantModel) {
  const auto x = blob_image();
  const auto plain = centroid_toy(x);
  inference::PredictorOptions o;
  o.flip = true;
  const auto out = inference::Predictor(inference::OutputsFn(centroid_toy), o).outputs(x);
  EXPECT_LE(max_diff(out.at("offset").value, plain.at("offset").value), 1e-5);
  EXPECT_LE(max_diff(out.at("center").value, plain.at("center").value), 1e-5);
  // Negative control: the flipped pass alone has dx mirrored; had the
  // predictor not negated it, the average would be far off.
  const auto flipped = centroid_toy(x.flip({3})).at("offset").value.flip({3});
  EXPECT_GT(max_diff(flipped.select(1, 1), plain.at("offset").value.select(1, 1)), 10.0);
}

TEST(PanopticTta, OffsetsAreRescaledAtHalfAndDoubleScale) {
  const auto x = blob_image();
  const auto plain = centroid_toy(x).at("offset").value;
  for (const double scale : {0.5, 2.0}) {
    SCOPED_TRACE(scale);
    inference::PredictorOptions o;
    o.scales = {scale};
    const auto out = inference::Predictor(inference::OutputsFn(centroid_toy), o).outputs(x).at("offset").value;
    // Bilinear resizing reproduces a linear field except where it clamps at
    // the border; compare the interior.
    const auto inner = [](const at::Tensor& t) { return t.slice(2, 2, -2).slice(3, 2, -2); };
    EXPECT_LE(max_diff(inner(out), inner(plain)), 1e-5);
  }
}

}  // namespace
}  // namespace deeplab::eval
