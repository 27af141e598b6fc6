// Test-time inference identities: a single plain pass is the model bit for
// bit, one window as large as the image is whole-image inference, flip TTA of
// a flip-equivariant model changes nothing; windows cover every pixel; an
// offset output survives multi-scale + flip TTA by its own rule.

#include "deeplab/inference/predictor.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "tests/eval/eval_test_models.h"

namespace deeplab::inference {
namespace {

models::DeepLab small_model(int output_stride = 16) {
  models::ModelConfig c;
  c.num_classes = 6;
  c.backbone.name = "mobilenet_v3_small";
  c.backbone.output_stride = output_stride;
  return testing::small_random_model(c);
}

SegmentFn of(models::DeepLab model) {
  return [model](const at::Tensor& x) mutable { return model->forward(x); };
}

// Per pixel (a 1x1 convolution): mirroring the input mirrors the output exactly.
SegmentFn pixelwise_toy(int64_t classes) {
  torch::manual_seed(5);
  const auto weight = torch::randn({classes, 3, 1, 1});
  const auto bias = torch::randn({classes});
  return [weight, bias](const at::Tensor& x) { return torch::conv2d(x, weight, bias); };
}

// Not a near-constant map, which any identity would reproduce.
bool differs_somewhere(const at::Tensor& logits) {
  return logits.std({2, 3}).mean().item<double>() > 0.1;  // varies over positions
}

// A 4-class model of zeros that notes the size of every input it is given.
SegmentFn size_recorder(std::vector<std::vector<int64_t>>& seen) {
  return [&seen](const at::Tensor& x) {
    seen.push_back(x.sizes().vec());
    return torch::zeros({x.size(0), 4, x.size(2), x.size(3)});
  };
}

TEST(Predictor, SingleScaleNoFlipIsPlainInferenceBitForBit) {
  torch::NoGradGuard no_grad;
  auto model = small_model();
  const auto x = torch::randn({1, 3, 64, 96});
  PredictorOptions o;
  o.pad_multiple = 16;  // 64 x 96 needs no padding
  const Predictor predictor(of(model), o);
  const auto logits = model->forward(x);
  const auto plain = torch::softmax(logits, 1);
  const auto probs = predictor.probabilities(x);
  ASSERT_TRUE(differs_somewhere(logits));
  EXPECT_TRUE(torch::equal(probs, plain));
  EXPECT_TRUE(torch::equal(predictor.predict(x), plain.argmax(1)));
  EXPECT_EQ(predictor.passes(64, 96), 1);
}

TEST(Predictor, WindowAtLeastImageIsWholeImageInference) {
  torch::NoGradGuard no_grad;
  auto model = small_model();
  const auto x = torch::randn({1, 3, 61, 90});  // padded to 64 x 96 in both modes
  PredictorOptions whole;
  whole.pad_multiple = 16;
  PredictorOptions slide = whole;
  slide.mode = "slide";
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{61, 90}, {513, 513}, {61, 2000}}) {
    slide.window_h = h;
    slide.window_w = w;
    EXPECT_TRUE(
        torch::equal(Predictor(of(model), slide).probabilities(x), Predictor(of(model), whole).probabilities(x)))
        << "window " << h << "x" << w;
  }
}

TEST(Predictor, WholeImagePadsToTheStrideAndCropsBack) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<int64_t>> seen;
  const SegmentFn recorder = size_recorder(seen);
  PredictorOptions o;
  o.pad_multiple = 8;
  const auto probs = Predictor(recorder, o).probabilities(torch::randn({2, 3, 33, 41}));
  EXPECT_EQ(probs.sizes(), (std::vector<int64_t>{2, 4, 33, 41}));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<int64_t>{2, 3, 40, 48}));
}

TEST(Predictor, AlignCornersPadsToAMultipleOfTheStridePlusOne) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<int64_t>> seen;
  const SegmentFn recorder = size_recorder(seen);
  PredictorOptions o;
  o.pad_multiple = 8;
  o.align_corners = true;  // deeplab2 evaluates Cityscapes' 1024 x 2048 at 1025 x 2049
  const Predictor predictor(recorder, o);
  EXPECT_EQ(predictor.probabilities(torch::randn({1, 3, 32, 40})).sizes(), (std::vector<int64_t>{1, 4, 32, 40}));
  predictor.probabilities(torch::randn({1, 3, 33, 42}));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<int64_t>{1, 3, 33, 41}));
  EXPECT_EQ(seen[1], (std::vector<int64_t>{1, 3, 33, 49})) << "33 = 4 * 8 + 1 already fits";
}

TEST(Predictor, FlipOnlyTtaOfFlipEquivariantModelIsPlainInference) {
  torch::NoGradGuard no_grad;
  const auto toy = pixelwise_toy(5);
  const auto x = torch::randn({1, 3, 16, 32});
  PredictorOptions o;
  o.flip = true;
  const Predictor predictor(toy, o);
  const auto plain = torch::softmax(toy(x), 1);
  ASSERT_TRUE(differs_somewhere(toy(x)));
  EXPECT_TRUE(torch::equal(predictor.probabilities(x), plain));
  EXPECT_EQ(predictor.passes(16, 32), 2);
}

TEST(Predictor, FlipOfAnAsymmetricModelAveragesBothPasses) {
  torch::NoGradGuard no_grad;
  auto model = small_model();
  const auto x = torch::randn({1, 3, 32, 48});
  PredictorOptions o;
  o.flip = true;
  const auto logits = model->forward(x), logits_mirrored = model->forward(x.flip({3})).flip({3});
  EXPECT_GT((logits_mirrored - logits).abs().max().item<double>(), 0.1);  // the model is not flip-equivariant
  const auto plain = torch::softmax(logits, 1), mirrored = torch::softmax(logits_mirrored, 1);
  const auto probs = Predictor(of(model), o).probabilities(x);
  EXPECT_TRUE(torch::allclose(probs, (plain + mirrored) / 2, 1e-5, 1e-6));
}

TEST(Predictor, SmallWindowsOfAPixelwiseModelAgreeWithWholeImage) {
  torch::NoGradGuard no_grad;
  const auto toy = pixelwise_toy(4);
  const auto x = torch::randn({2, 3, 37, 53});
  PredictorOptions slide;
  slide.mode = "slide";
  slide.window_h = 16;
  slide.window_w = 20;
  slide.overlap = 0.5;
  slide.batch_size = 3;
  const Predictor predictor(toy, slide);
  EXPECT_TRUE(torch::allclose(predictor.probabilities(x), torch::softmax(toy(x), 1), 1e-5, 1e-6));
  EXPECT_EQ(predictor.passes(37, 53),
            static_cast<int64_t>(window_starts(37, 16, 0.5).size() * window_starts(53, 20, 0.5).size()));
}

TEST(Predictor, MultiScaleOfAnInputIndependentModelKeepsItsProbabilities) {
  torch::NoGradGuard no_grad;
  const auto logits = torch::tensor({0.5f, -1.0f, 2.0f}).view({1, 3, 1, 1});
  const SegmentFn constant = [logits](const at::Tensor& x) {
    return logits.expand({x.size(0), 3, x.size(2), x.size(3)}) * 1;
  };
  PredictorOptions o;
  o.scales = {0.5, 0.75, 1.0, 1.25, 1.75};
  o.flip = true;
  o.pad_multiple = 8;
  const Predictor predictor(constant, o);
  const auto probs = predictor.probabilities(torch::randn({1, 3, 29, 43}));
  EXPECT_EQ(probs.sizes(), (std::vector<int64_t>{1, 3, 29, 43}));
  EXPECT_TRUE(torch::allclose(probs, torch::softmax(logits, 1).expand_as(probs), 1e-5, 1e-6));
  EXPECT_EQ(predictor.passes(29, 43), 10);
}

TEST(Predictor, WindowStartsCoverEverythingAndEndAtTheBorder) {
  for (int64_t size : {1, 7, 100, 513, 1024, 2048}) {
    for (int64_t window : {1, 5, 100, 513, 769, 4000}) {
      for (double overlap : {0.0, 1.0 / 3.0, 0.5, 0.9}) {
        const auto starts = window_starts(size, window, overlap);
        const int64_t win = std::min(window, size);
        std::vector<int> covered(static_cast<size_t>(size), 0);
        for (int64_t s : starts) {
          ASSERT_GE(s, 0);
          ASSERT_LE(s + win, size);
          for (int64_t i = s; i < s + win; ++i) covered[static_cast<size_t>(i)] = 1;
        }
        EXPECT_EQ(starts.back() + win, size);
        EXPECT_EQ(std::count(covered.begin(), covered.end(), 1), size) << size << " " << window << " " << overlap;
      }
    }
  }
  EXPECT_EQ(window_starts(2048, 769, 1.0 / 3.0), (std::vector<int64_t>{0, 513, 1026, 1279}));
}

TEST(Predictor, BadOptionsNameTheKey) {
  const SegmentFn toy = pixelwise_toy(2);
  auto expect_error = [&](PredictorOptions o, const std::string& key) {
    try {
      Predictor(toy, o);
      ADD_FAILURE() << "no error for " << key;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  PredictorOptions o;
  o.mode = "tiles";
  expect_error(o, "eval.mode: 'tiles'");
  o = {};
  o.scales = {1.0, -0.5};
  expect_error(o, "eval.scales");
  o = {};
  o.overlap = 1.0;
  expect_error(o, "eval.overlap");
  o = {};
  o.window_w = 0;
  expect_error(o, "eval.window");
}

TEST(Predictor, LogitsOfTheWrongSizeAreAnError) {
  const SegmentFn shrinking = [](const at::Tensor& x) {
    return torch::zeros({x.size(0), 2, x.size(2) / 2, x.size(3) / 2});
  };
  try {
    Predictor(shrinking, {}).probabilities(torch::zeros({1, 3, 8, 8}));
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("[1, 2, 4, 4]"), std::string::npos) << e.what();
  }
}

// A geometry-aware toy: every pixel's offset to the image centre, (dy, dx),
// plus per-pixel logits.  Its true output does not depend on the scale or a
// flip, so multi-scale + flip TTA must give it back unchanged when each
// output is brought back by its own rule.
models::ModelOutputs centre_offsets(const at::Tensor& x, models::OutputKind offset_kind) {
  const int64_t h = x.size(2), w = x.size(3);
  const auto ys = torch::arange(h, x.options()).view({1, 1, h, 1}).expand({x.size(0), 1, h, w});
  const auto xs = torch::arange(w, x.options()).view({1, 1, 1, w}).expand({x.size(0), 1, h, w});
  const auto offsets = torch::cat({(h - 1) / 2.0 - ys, (w - 1) / 2.0 - xs}, 1);
  return {{"semantic", {x.sum(1, true).repeat({1, 2, 1, 1}), models::OutputKind::kLogits}},
          {"offset", {offsets, offset_kind}}};
}

TEST(Predictor, OffsetOutputsSurviveMultiScaleAndFlip) {
  PredictorOptions o;
  o.scales = {0.5, 1.0};
  o.flip = true;
  o.align_corners = true;  // a linear field is reproduced exactly
  const auto x = torch::randn({1, 3, 33, 41});
  const auto truth = centre_offsets(x, models::OutputKind::kOffsets).at("offset").value;
  const Predictor predictor(
      OutputsFn([](const at::Tensor& in) { return centre_offsets(in, models::OutputKind::kOffsets); }), o);
  const auto out = predictor.outputs(x);
  EXPECT_LE((out.at("offset").value - truth).abs().max().item<double>(), 1e-4);
  EXPECT_EQ(out.at("semantic").value.sizes(), (std::vector<int64_t>{1, 2, 33, 41}));
  // Negative control: treated as a plain map, the same field comes back wrong.
  const Predictor naive(
      OutputsFn([](const at::Tensor& in) { return centre_offsets(in, models::OutputKind::kHeatmap); }), o);
  EXPECT_GT((naive.outputs(x).at("offset").value - truth).abs().max().item<double>(), 1.0);
}

}  // namespace
}  // namespace deeplab::inference
