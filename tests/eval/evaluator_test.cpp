// The evaluator as a library (what the trainer calls): shards merge to the
// unsharded matrix exactly, every image counts once, a perfect predictor
// scores 100 %, the model's mode is restored, class counts must agree, and
// eval.crf scores the dense CRF's labels.

#include "deeplab/eval/evaluator.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/eval/semantic_metric.h"
#include "deeplab/models/factory.h"
#include "deeplab/weights/model_io.h"
#include "deeplab/weights/state_dict.h"
#include "tests/eval/eval_test_models.h"
#include "tests/support/test_support.h"

namespace deeplab::eval {
namespace {

// The confusion matrix of a result's semantic metric.
const ConfusionMatrix& matrix_of(const EvalResult& r) { return r.find<SemanticMetric>()->matrix(); }

constexpr int kClasses = 4;

// Images whose red channel encodes the class (label = red / 60), with some void pixels.
class ToyDataset : public data::Dataset {
 public:
  explicit ToyDataset(size_t n) : n_(n) {}
  size_t size() const override { return n_; }
  std::string id(size_t i) const override { return "toy_" + std::to_string(i); }
  int num_classes() const override { return kClasses; }
  int ignore_label() const override { return 255; }
  data::Sample get(size_t i) const override {
    data::Sample s;
    s.id = id(i);
    const int h = 9 + static_cast<int>(i % 3), w = 13 + static_cast<int>(i % 4);
    s.image = cv::Mat(h, w, CV_8UC3, cv::Scalar(0, 90, 200));
    s.label = cv::Mat(h, w, CV_8UC1);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int c = static_cast<int>((static_cast<size_t>(x * 7 + y * 3) + i) % kClasses);
        s.image.at<cv::Vec3b>(y, x)[0] = static_cast<uint8_t>(c * 60);
        s.label.at<uint8_t>(y, x) = (x + y + static_cast<int>(i)) % 11 == 0 ? 255 : static_cast<uint8_t>(c);
      }
    return s;
  }

 private:
  size_t n_;
};

EvalOptions toy_options() {
  EvalOptions o;
  o.progress = false;
  o.workers = 1;
  return o;
}

// Undoes the normalisation of the red channel and decodes the class exactly.
inference::SegmentFn oracle(const EvalOptions& o) {
  return [o](const at::Tensor& x) {
    const auto red = (x.select(1, 0) * o.normalization.std[0] + o.normalization.mean[0]) * 255.0;
    const auto cls = (red / 60.0).round().clamp(0, kClasses - 1).to(torch::kLong);
    return torch::one_hot(cls, kClasses).permute({0, 3, 1, 2}).to(torch::kFloat);
  };
}

// Right except that class 2 is predicted as 3.
inference::SegmentFn confused(const EvalOptions& o) {
  const auto truth = oracle(o);
  return [truth](const at::Tensor& x) {
    auto logits = truth(x).clone();
    logits.select(1, 3).add_(logits.select(1, 2) * 2);
    return logits;
  };
}

TEST(Evaluator, PerfectPredictorScoresOneAndSkipsVoid) {
  const ToyDataset dataset(5);
  const auto options = toy_options();
  const EvalResult r = evaluate(inference::Predictor(oracle(options), {}), dataset, options);
  EXPECT_EQ(r.images, 5);
  EXPECT_EQ(r.forward_passes, 5);
  int64_t labelled = 0;
  for (size_t i = 0; i < dataset.size(); ++i) labelled += cv::countNonZero(dataset.get(i).label != 255);
  EXPECT_EQ(matrix_of(r).total(), labelled);
  for (int c = 0; c < kClasses; ++c) EXPECT_EQ(matrix_of(r).at(c, c), matrix_of(r).gt_count(c));
  EXPECT_DOUBLE_EQ(*r.score("mIoU"), 1.0);
}

TEST(Evaluator, ShardsMergeToTheUnshardedMatrixExactly) {
  const ToyDataset dataset(7);
  auto options = toy_options();
  options.predictor.mode = "slide";
  options.predictor.window_h = options.predictor.window_w = 6;
  const inference::Predictor predictor(confused(options), options.predictor);
  const EvalResult whole = evaluate(predictor, dataset, options);
  EXPECT_GT(matrix_of(whole).at(2, 3), 0);
  for (int world : {2, 3}) {
    EvalResult merged;
    for (int rank = 0; rank < world; ++rank) {
      options.rank = rank;
      options.world_size = world;
      EvalResult shard = evaluate(predictor, dataset, options);
      if (rank == 0) {
        merged = std::move(shard);
      } else {
        merged.merge(shard);
      }
    }
    EXPECT_EQ(merged.images, 7);
    EXPECT_EQ(merged.shards, world);
    EXPECT_EQ(merged.forward_passes, whole.forward_passes);
    const ConfusionMatrix& m = matrix_of(merged);
    EXPECT_TRUE(std::equal(m.data(), m.data() + m.size(), matrix_of(whole).data()));
  }
}

TEST(Evaluator, ResultJsonRoundTripsAndHasTopLevelMiou) {
  const ToyDataset dataset(3);
  auto options = toy_options();
  options.class_names = {"a", "b", "c", "d"};
  const EvalResult r = evaluate(inference::Predictor(confused(options), {}), dataset, options);
  const auto json = eval_result_json(r);
  ASSERT_TRUE(json.contains("mIoU"));
  EXPECT_DOUBLE_EQ(json["mIoU"].get<double>(), *r.score("mIoU"));
  EXPECT_EQ(json["per_class"][2]["name"], "c");
  const EvalResult back = eval_result_from_json(json, "mem");
  EXPECT_EQ(back.images, 3);
  const ConfusionMatrix& m = matrix_of(back);
  EXPECT_TRUE(std::equal(m.data(), m.data() + m.size(), matrix_of(r).data()));
  try {
    eval_result_from_json(nlohmann::json{{"mIoU", 0.5}}, "shard.json");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("shard.json"), std::string::npos) << e.what();
  }
}

// With eval.crf the scored labels are the dense CRF's argmax over the
// predictor's softmax and the image itself (here recomputed by hand, one
// image at a time); with 2 threads the evaluator joins same-size images so
// their CRFs run in parallel, and scores the very same labels.
TEST(Evaluator, DenseCrfRefinesTheSoftmaxThatIsScored) {
  const ToyDataset dataset(3);
  auto options = toy_options();
  options.crf = postprocess::DenseCrfOptions{};
  options.crf->spatial_weight = 20;  // strong smoothing: the toy labels change pixel by pixel
  options.crf->spatial_xy_std = 3;
  const inference::Predictor predictor(confused(options), {});
  const EvalResult with_crf = evaluate(predictor, dataset, options);
  ConfusionMatrix expected(kClasses);
  for (size_t i = 0; i < dataset.size(); ++i) {
    const data::Sample s = dataset.get(i);
    const at::Tensor rgb = at::from_blob(s.image.data, {s.image.rows, s.image.cols, 3}, at::kByte).clone();
    const auto& n = options.normalization;
    const at::Tensor mean = torch::tensor({n.mean[0], n.mean[1], n.mean[2]}).view({3, 1, 1});
    const at::Tensor std = torch::tensor({n.std[0], n.std[1], n.std[2]}).view({3, 1, 1});
    const at::Tensor x = ((rgb.permute({2, 0, 1}).to(torch::kFloat) / 255 - mean) / std).unsqueeze(0);
    const at::Tensor labels = postprocess::dense_crf(rgb, predictor.probabilities(x)[0], *options.crf).argmax(0);
    const at::Tensor truth =
        torch::from_blob(s.label.data, {s.label.rows, s.label.cols}, torch::kByte).to(torch::kLong);
    expected.add(truth.data_ptr<int64_t>(), labels.contiguous().data_ptr<int64_t>(),
                 static_cast<size_t>(labels.numel()), 255, s.id);
  }
  EXPECT_TRUE(std::equal(expected.data(), expected.data() + expected.size(), matrix_of(with_crf).data()));
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  const EvalResult parallel = evaluate(predictor, dataset, options);
  at::set_num_threads(threads);
  EXPECT_EQ(parallel.images, 3);
  EXPECT_TRUE(std::equal(expected.data(), expected.data() + expected.size(), matrix_of(parallel).data()));
  options.crf.reset();
  const EvalResult plain = evaluate(predictor, dataset, options);
  const ConfusionMatrix& p = matrix_of(plain);
  EXPECT_FALSE(std::equal(p.data(), p.data() + p.size(), matrix_of(with_crf).data()))
      << "the CRF changed nothing: the check above would not tell it was applied";
}

TEST(Evaluator, BadShardIsAnErrorNamingTheFlags) {
  const ToyDataset dataset(2);
  auto options = toy_options();
  options.rank = 2;
  options.world_size = 2;
  try {
    evaluate(inference::Predictor(oracle(options), {}), dataset, options);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--rank 2 --world-size 2"), std::string::npos) << e.what();
  }
}

models::ModelConfig small_config(int classes, int output_stride) {
  models::ModelConfig c;
  c.num_classes = classes;
  c.backbone.name = "mobilenet_v3_small";
  c.backbone.output_stride = output_stride;
  return c;
}

TEST(Evaluator, ModelIsEvaluatedInEvalModeAndItsModeRestored) {
  const ToyDataset dataset(2);
  models::DeepLab model = models::build_model(small_config(kClasses, 16));
  model->train();
  const EvalResult r = evaluate(*model, dataset, toy_options());
  EXPECT_EQ(r.images, 2);
  EXPECT_TRUE(model->is_training());
  model->eval();
  evaluate(*model, dataset, toy_options());
  EXPECT_FALSE(model->is_training());
}

TEST(Evaluator, ClassCountMismatchNamesBoth) {
  const ToyDataset dataset(1);
  models::DeepLab model = models::build_model(small_config(kClasses + 1, 16));
  try {
    evaluate(*model, dataset, toy_options());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.num_classes is 5 but the dataset has 4"), std::string::npos)
        << e.what();
  }
}

TEST(Evaluator, SameWeightsLoadAtAnotherOutputStride) {
  testing::TempDir dir;
  models::DeepLab os16 = testing::small_random_model(small_config(kClasses, 16), 1);
  const std::string weights = dir.file("w.pth");
  weights::save_module_state_dict(*os16, weights);
  // What eval.output_stride = 8 does to the model config.
  models::DeepLab os8 = weights::load_model(small_config(kClasses, 8), weights);
  EXPECT_EQ(model_output_stride(*os16), 16);
  EXPECT_EQ(model_output_stride(*os8), 8);
  os16->eval();
  os8->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, 64, 64});
  EXPECT_FALSE(torch::allclose(os16->forward(x), os8->forward(x)));  // dilations changed, weights the same
}

}  // namespace
}  // namespace deeplab::eval
