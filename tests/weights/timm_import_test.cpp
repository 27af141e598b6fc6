// `deeplab import --from timm` against a forward oracle: a Python restatement
// of timm's XceptionAligned (scripts/fixtures/timm_xception_reference.py) with
// seeded weights, saved under timm's names as .pth and .safetensors.  The
// imported backbone must reproduce its features and ImageNet logits (1e-4);
// a mapping that swapped two same-shaped middle-flow blocks would load
// without a shape error, and the oracle is shown to catch that.

#include "deeplab/weights/timm_import.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/weights/pretrained_import.h"
#include "tests/support/test_support.h"
#include "tests/weights/export_fixtures.h"

namespace deeplab::weights {
namespace {

std::string timm_fixture(const std::string& name) {
  const std::string dir = testing::python_fixture_dir("timm_xception_reference.py");
  return dir.empty() ? "" : dir + "/" + name;
}

#define REQUIRE_TIMM_FIXTURES()                                                                        \
  do {                                                                                                 \
    if (timm_fixture("").empty()) GTEST_SKIP() << "the oracle Python with torch not found: no oracle"; \
  } while (0)

models::DeepLab xception_model(const std::string& backbone, int output_stride) {
  models::ModelConfig c;
  c.arch = "deeplabv3plus";
  c.num_classes = 21;
  c.backbone.name = backbone;
  c.backbone.output_stride = output_stride;
  models::DeepLab model = models::build_model(c);
  model->eval();
  return model;
}

const torch::Tensor& entry(const StateDict& entries, const std::string& key) {
  const auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == key; });
  if (it == entries.end()) throw std::runtime_error("no " + key);
  return it->second;
}

struct Forward {
  torch::Tensor features, logits;
};

// Backbone features, and timm's classifier (global average pool + head.fc,
// taken from the file) on them: what timm's model(x) returns.
Forward run(models::DeepLab& model, const StateDict& file, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  Forward f;
  f.features = model->backbone().forward(input).at("out");
  f.logits = torch::linear(f.features.mean({2, 3}), entry(file, "head.fc.weight"), entry(file, "head.fc.bias"));
  return f;
}

struct Oracle {
  torch::Tensor input, features, logits;
};

Oracle oracle(const std::string& name) {
  const auto io = testing::load_plain_dict(timm_fixture(name + ".io.pt"));
  return {io.at("input").toTensor(), io.at("features").toTensor(), io.at("logits").toTensor()};
}

void expect_matches_oracle(const std::string& file, const std::string& backbone, int output_stride,
                           const std::string& name) {
  models::DeepLab model = xception_model(backbone, output_stride);
  const LoadReport report = import_pretrained(*model, file, backbone);
  for (const auto& key : report.missing) EXPECT_NE(key.rfind("backbone.", 0), 0u) << key;
  const Oracle expected = oracle(name);
  const Forward ours = run(model, read_state_dict(file), expected.input);
  ASSERT_GT(expected.features.std().item<double>(), 0.1);
  std::printf("%s: features max |diff| %.2e (max |value| %.2f), logits max |diff| %.2e\n", name.c_str(),
              (ours.features - expected.features).abs().max().item<double>(),
              expected.features.abs().max().item<double>(), (ours.logits - expected.logits).abs().max().item<double>());
  EXPECT_TRUE(testing::close_enough(ours.features, expected.features))
      << file << ": max diff " << (ours.features - expected.features).abs().max().item<double>();
  EXPECT_TRUE(testing::close_enough(ours.logits, expected.logits))
      << file << ": max diff " << (ours.logits - expected.logits).abs().max().item<double>();
}

TEST(TimmImport, Xception65FromPthMatchesTheForwardOracle) {
  REQUIRE_TIMM_FIXTURES();
  expect_matches_oracle(timm_fixture("xception65_os16.pth"), "xception65", 16, "xception65_os16");
}

TEST(TimmImport, Xception65FromSafetensorsMatchesTheForwardOracle) {
  REQUIRE_TIMM_FIXTURES();
  expect_matches_oracle(timm_fixture("xception65_os16.safetensors"), "xception65", 16, "xception65_os16");
}

TEST(TimmImport, Xception71FromSafetensorsMatchesTheForwardOracle) {
  REQUIRE_TIMM_FIXTURES();
  expect_matches_oracle(timm_fixture("xception71_os32.safetensors"), "xception71", 32, "xception71_os32");
}

TEST(TimmImport, BothFormatsHoldTheSameTensors) {
  REQUIRE_TIMM_FIXTURES();
  const StateDict pth = read_state_dict(timm_fixture("xception65_os16.pth"));
  const StateDict safetensors = read_state_dict(timm_fixture("xception65_os16.safetensors"));
  ASSERT_EQ(pth.size(), safetensors.size());
  for (const auto& [key, tensor] : pth) {
    const torch::Tensor& other = entry(safetensors, key);
    EXPECT_EQ(other.scalar_type(), tensor.scalar_type()) << key;
    EXPECT_TRUE(torch::equal(other, tensor)) << key;
  }
}

// The control: the same tensors with two middle-flow blocks exchanged load
// cleanly (same shapes) but no longer reproduce the oracle.
TEST(TimmImport, SwappedMiddleFlowBlocksLoadButFailTheOracle) {
  REQUIRE_TIMM_FIXTURES();
  StateDict swapped = read_state_dict(timm_fixture("xception65_os16.safetensors"));
  for (auto& [key, tensor] : swapped) {
    if (key.rfind("blocks.7.", 0) == 0) {
      key.replace(0, 9, "blocks.8.");
    } else if (key.rfind("blocks.8.", 0) == 0) {
      key.replace(0, 9, "blocks.7.");
    }
  }
  models::DeepLab model = xception_model("xception65", 16);
  EXPECT_NO_THROW(import_timm_xception(*model, swapped, "swapped", "xception65"));
  const Oracle expected = oracle("xception65_os16");
  EXPECT_FALSE(testing::close_enough(run(model, swapped, expected.input).features, expected.features));
}

std::string import_error(const StateDict& entries, const std::string& backbone) {
  models::DeepLab model = xception_model(backbone, 16);
  try {
    import_timm_xception(*model, entries, "weights.safetensors", backbone);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(TimmImport, MissingKeyWrongShapeAndWrongDepthAreReportedByName) {
  REQUIRE_TIMM_FIXTURES();
  const StateDict file = read_state_dict(timm_fixture("xception65_os16.safetensors"));
  StateDict missing;
  for (const auto& e : file) {
    if (e.first != "blocks.7.stack.conv2.bn_pw.running_var") missing.push_back(e);
  }
  std::string error = import_error(missing, "xception65");
  EXPECT_NE(error.find("weights.safetensors: does not fit the configured backbone (xception65"), std::string::npos)
      << error;
  EXPECT_NE(error.find("backbone.block8.sepconv2.bn_pointwise.running_var"), std::string::npos) << error;
  EXPECT_EQ(error.find("classifier."), std::string::npos) << "the head is not the file's to fill: " << error;

  StateDict reshaped = file;
  for (auto& [key, tensor] : reshaped) {
    if (key == "stem.0.conv.weight") tensor = torch::zeros({32, 3, 5, 5});
  }
  error = import_error(reshaped, "xception65");
  EXPECT_NE(error.find("backbone.conv1.weight: source [32, 3, 5, 5] vs module [32, 3, 3, 3]"), std::string::npos)
      << error;

  error = import_error(read_state_dict(timm_fixture("xception71_os32.safetensors")), "xception65");
  EXPECT_NE(error.find("holds timm xception71 weights, but the backbone is xception65"), std::string::npos) << error;

  StateDict stray = file;
  stray.emplace_back("blocks.3.stack.conv1.extra.weight", torch::zeros({1}));
  error = import_error(stray, "xception65");
  EXPECT_NE(error.find("unexpected keys"), std::string::npos) << error;
  EXPECT_NE(error.find("blocks.3.stack.conv1.extra.weight"), std::string::npos) << error;
}

TEST(TimmImport, CliWritesOurNamesThatLoadAsThePretrainedBackbone) {
  REQUIRE_TIMM_FIXTURES();
  testing::TempDir dir;
  const std::string source = timm_fixture("xception65_os16.safetensors"), ours = dir.file("x65.pth");
  auto result = testing::run_deeplab("import --from timm --arch xception65 " + source + " " + ours);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("tensors of deeplabv3plus/xception65"), std::string::npos) << result.output;
  // The converted file loads through the same path as model.backbone.pretrained.
  models::DeepLab model = xception_model("xception65", 16);
  import_pretrained(*model, ours, "xception65");
  const Oracle expected = oracle("xception65_os16");
  EXPECT_TRUE(testing::close_enough(run(model, read_state_dict(source), expected.input).features, expected.features));

  result = testing::run_deeplab("import --from timm --arch xception71 " + source + " " + dir.file("x71.pth"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("holds timm xception65 weights, but the backbone is xception71"), std::string::npos)
      << result.output;
  result = testing::run_deeplab("import --from timm --arch resnet50 " + source + " " + dir.file("r.pth"));
  EXPECT_NE(result.output.find("expected xception65 or xception71"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace deeplab::weights
