// MaX-DeepLab's losses (train/max_loss.h): every term and its gradient equal
// a direct float64 restatement of deeplab2's code (scripts/fixtures/
// max_loss_reference.py: dense one-hot segments, scipy's Hungarian matching
// on the padded square matrix, permuted slot logits) within 1e-10 / 1e-8;
// two processes' halves add up to the whole batch; the pixel sampling is
// seeded per image and never picks void; bad input is named.

#include "deeplab/train/max_loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "deeplab/core/error.h"
#include "deeplab/weights/pth_reader.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

struct Case {
  std::map<std::string, torch::Tensor> entries;
  MaXLossOptions options;
  std::vector<MaXPrediction> predictions;  // final, then the auxiliary sets
  MaXTargets targets;
};

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

Case load_case(const std::string& path) {
  Case c;
  for (auto& [name, tensor] : weights::read_state_dict(path)) c.entries[name] = tensor;
  c.options.num_classes = c.entries.at("setting/num_classes").item<int64_t>();
  c.options.thing_ids = to_vector(c.entries.at("setting/things"));
  c.options.max_things = c.entries.at("setting/max_things").item<int64_t>();
  for (int i = 0; i < 3; ++i) {
    const auto leaf = [&](const std::string& name) {
      return c.entries.at(name + "_" + std::to_string(i)).clone().requires_grad_(true);
    };
    c.predictions.push_back({leaf("embedding"), leaf("mask_logits"), leaf("class_logits")});
  }
  c.targets = {c.entries.at("semantic"), c.entries.at("thing_ids"), c.entries.at("thing_classes"),
               c.entries.at("samples")};
  return c;
}

TEST(MaXLoss, TermsAndGradientsEqualDeeplab2sRestatementInFloat64) {
  const std::string dir = testing::python_fixture_dir("max_loss_reference.py");
  if (dir.empty()) GTEST_SKIP() << "no Python oracle (torch + scipy): the restatement is not checked";
  for (const char* name : {"case0.pth", "case1.pth"}) {
    Case c = load_case(dir + "/" + name);
    const std::vector<MaXPrediction> aux(c.predictions.begin() + 1, c.predictions.end());
    const LossTerms terms = max_deeplab_loss(c.predictions[0], aux, c.targets, c.options);
    ASSERT_EQ(terms.size(), 12u) << name;
    for (const auto& [term, value] : terms) {
      const double expected = c.entries.at("term/" + term).item<double>();
      EXPECT_NEAR(value.item<double>(), expected, 1e-10 * std::max(1.0, std::abs(expected))) << name << " " << term;
    }
    total_loss(terms).backward();
    for (int i = 0; i < 3; ++i) {
      const MaXPrediction& p = c.predictions[i];
      const std::pair<const char*, torch::Tensor> inputs[] = {
          {"embedding", p.pixel_embedding}, {"mask_logits", p.mask_logits}, {"class_logits", p.class_logits}};
      for (const auto& [input, tensor] : inputs) {
        const std::string key = "grad/" + std::string(input) + "_" + std::to_string(i);
        ASSERT_TRUE(tensor.grad().defined()) << name << " " << key;
        const double error = (tensor.grad() - c.entries.at(key)).abs().max().item<double>();
        EXPECT_LT(error, 1e-8) << name << " " << key;
      }
    }
  }
}

// A small batch of two images for the tests without the oracle.
MaXTargets two_images(int64_t height, int64_t width) {
  torch::manual_seed(3);
  MaXTargets t;
  t.semantic = torch::randint(0, 4, {2, height, width}, torch::kLong);
  t.semantic.select(1, 0).fill_(255);  // a void row
  t.thing_ids = torch::where(t.semantic == 3, torch::randint(0, 3, {2, height, width}, torch::kLong),
                             torch::full({2, height, width}, -1, torch::kLong));
  t.thing_classes = torch::full({2, 4}, 3, torch::kLong);
  return t;
}

MaXLossOptions small_options() {
  MaXLossOptions o;
  o.num_classes = 4;
  o.thing_ids = {3};
  o.max_things = 4;
  return o;
}

MaXPrediction random_prediction(int64_t batch, int64_t slots, int64_t height, int64_t width) {
  const auto e = torch::randn({batch, 6, height, width}, torch::kDouble);
  return {e / e.norm(2, 1, true), torch::randn({batch, slots, height, width}, torch::kDouble),
          torch::randn({batch, slots, 5}, torch::kDouble)};
}

TEST(MaXLoss, TwoProcessesHalvesAddUpToTheWholeBatch) {
  MaXTargets t = two_images(6, 7);
  const MaXLossOptions o = small_options();
  t.samples = sample_instance_pixels(t, o, 10, 0.6, {11, 12});
  const MaXPrediction p = random_prediction(2, 9, 6, 7);
  const LossTerms whole = max_deeplab_loss(p, {}, t, o);
  const GlobalSum two_ranks = [](torch::Tensor count) { return count * 2; };  // the other rank holds 1 image too
  const auto half = [&](int64_t b) {
    MaXTargets h{t.semantic.narrow(0, b, 1), t.thing_ids.narrow(0, b, 1), t.thing_classes.narrow(0, b, 1),
                 t.samples.narrow(0, b, 1)};
    MaXPrediction q{p.pixel_embedding.narrow(0, b, 1), p.mask_logits.narrow(0, b, 1), p.class_logits.narrow(0, b, 1)};
    return max_deeplab_loss(q, {}, h, o, two_ranks);
  };
  const LossTerms first = half(0), second = half(1);
  ASSERT_EQ(whole.size(), 4u);
  for (size_t k = 0; k < whole.size(); ++k) {
    EXPECT_NEAR((first[k].second + second[k].second).item<double>(), whole[k].second.item<double>(), 1e-12)
        << whole[k].first;
  }
}

TEST(MaXLoss, SamplesArePerImageSeededAndNeverVoid) {
  const MaXTargets t = two_images(8, 9);
  const MaXLossOptions o = small_options();
  const torch::Tensor both = sample_instance_pixels(t, o, 20, 0.6, {5, 6});
  EXPECT_EQ(both.sizes(), (std::vector<int64_t>{2, 20}));
  // Image 1 alone, with its own seed, draws what it drew in the pair: the
  // samples follow the image, not the rank or the batch it lands in.
  const MaXTargets second{t.semantic.narrow(0, 1, 1), t.thing_ids.narrow(0, 1, 1), t.thing_classes.narrow(0, 1, 1), {}};
  EXPECT_TRUE(torch::equal(sample_instance_pixels(second, o, 20, 0.6, {6})[0], both[1]));
  EXPECT_FALSE(torch::equal(sample_instance_pixels(second, o, 20, 0.6, {7})[0], both[1]));
  for (int64_t b = 0; b < 2; ++b) {
    const torch::Tensor labels = t.semantic[b].flatten().index_select(0, both[b]);
    EXPECT_FALSE((labels == 255).any().item<bool>()) << "image " << b << " sampled a void pixel";
    EXPECT_EQ(std::get<0>(torch::_unique(both[b])).numel(), 20) << "a pixel sampled twice";
  }
  // More samples than pixels: every pixel once (a small crop still trains).
  const torch::Tensor all = sample_instance_pixels(t, o, 1000, 0.6, {5, 6});
  EXPECT_EQ(all.size(1), t.semantic[0].numel());
  EXPECT_EQ(std::get<0>(torch::_unique(all[0])).numel(), t.semantic[0].numel());
}

TEST(MaXLoss, NamesAClassWidthOrAThingIdThatDoesNotFit) {
  const MaXTargets t = two_images(4, 4);
  MaXLossOptions o = small_options();
  MaXPrediction p = random_prediction(2, 5, 4, 4);
  p.class_logits = torch::randn({2, 5, 7}, torch::kDouble);
  try {
    max_deeplab_loss(p, {}, t, o);
    ADD_FAILURE() << "7 class channels for 4 classes were accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.num_classes 4"), std::string::npos) << e.what();
  }
  o.max_things = 2;  // the targets hold thing ids up to 2
  EXPECT_THROW(max_deeplab_loss(random_prediction(2, 5, 4, 4), {}, t, o), DataError);
}

}  // namespace
}  // namespace deeplab::train
