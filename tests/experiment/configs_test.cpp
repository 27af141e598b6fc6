// No recipe rots: every shipped config validates and runs one training step
// at a tiny crop on generated data of its dataset's layout.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "deeplab/experiment/config.h"
#include "deeplab/experiment/make_trainer.h"
#include "deeplab/models/factory.h"
#include "deeplab/train/trainer.h"
#include "tests/support/synthetic_data.h"

namespace deeplab::experiment {
namespace {

std::vector<std::string> experiment_configs() {
  std::vector<std::string> out;
  const auto root = std::filesystem::path(testing::source_dir()) / "configs";
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.path().extension() == ".yaml" && e.path().string().find("_base_") == std::string::npos) {
      out.push_back(std::filesystem::relative(e.path(), root).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The configs with an ASPP head: all but LargeFOV's (v1), whose configs are
// named deeplabv1_* (configs/README.md's table).
std::vector<std::string> aspp_configs() {
  std::vector<std::string> out;
  for (const auto& path : experiment_configs()) {
    if (std::filesystem::path(path).filename().string().rfind("deeplabv1", 0) != 0) out.push_back(path);
  }
  return out;
}

class EveryConfig : public ::testing::TestWithParam<std::string> {};
class EveryAsppConfig : public ::testing::TestWithParam<std::string> {};

// The real COCO panoptic samples (../shared) in the official layout, as split "train".
std::string coco_layout(const testing::TempDir& dir) {
  namespace fs = std::filesystem;
  const fs::path samples = fs::path(testing::samples_dir()) / "coco_panoptic";
  const fs::path root = fs::path(dir.path()) / "coco";
  fs::create_directories(root / "annotations");
  fs::copy_file(samples / "panoptic_examples.json", root / "annotations" / "panoptic_train.json");
  fs::copy(samples / "panoptic_examples", root / "annotations" / "panoptic_train");
  fs::copy(samples / "images", root / "train");
  return root.string();
}

std::string dataset_root(const Config& config, const testing::TempDir& dir) {
  if (config.data.dataset.rfind("cityscapes", 0) == 0) return testing::synthetic_cityscapes(dir, 4);
  if (config.data.dataset == "coco_panoptic") return coco_layout(dir);
  for (const char* layout : {"ade20k", "coco_stuff", "pascal_context"}) {
    if (config.data.dataset == layout) return testing::synthetic_layout(dir, layout, 4, 48);
  }
  return testing::synthetic_voc(dir, 4, 48);
}

TEST_P(EveryConfig, RunsOneTrainingStep) {
  testing::TempDir dir;
  const std::string path = testing::source_dir() + "/configs/" + GetParam();
  const Config original = load_config(path);
  if (original.data.dataset == "coco_panoptic" && testing::samples_dir().empty()) {
    GTEST_SKIP() << "../shared/samples (COCO panoptic) not found";
  }
  const std::string root = dataset_root(original, dir);
  const Config config =
      load_config(path, {"data.root=" + root, "data.crop_size=[41, 41]", "data.batch_size=2", "data.workers=0",
                         "data.train_split=" + testing::synthetic_train_split(original.data.dataset),
                         "model.backbone.pretrained=", "train.max_iters=1", "runtime.device=cpu",
                         "runtime.work_dir=" + dir.path() + "/run"});
  torch::manual_seed(0);
  train::Trainer trainer = make_trainer(config, models::build_model(config.model), c10::kCPU, dir.path() + "/run");
  const train::StepResult step = trainer.run_step();
  EXPECT_TRUE(std::isfinite(step.loss)) << GetParam();
  EXPECT_GT(step.loss, 0.0);
  EXPECT_EQ(trainer.state().iteration, 1);
}

// The paper's rates wherever a shipped config is evaluated: v3/v3+ 6/12/18
// at OS16 and 12/24/36 at OS8 (eval.output_stride), v2's ASPP-L 6/12/18/24 at
// its OS8 (halved at 16), torchvision's fixed 12/24/36; none where the config
// asks for no atrous branches (TF DeepLab's published MobileNet-V2).
TEST_P(EveryAsppConfig, AsppRatesFollowTheEvaluationStride) {
  const Config config = load_config(testing::source_dir() + "/configs/" + GetParam());
  ASSERT_NE(config.model.arch, "deeplabv1") << GetParam() << ": LargeFOV has no ASPP; aspp_configs() should skip it";
  for (const int os : {8, 16}) {
    const auto model = models::at_output_stride(config.model, os);
    std::vector<int64_t> expected;
    if (!config.model.head.atrous) {
      expected = {};
    } else if (config.model.head.style == "torchvision") {
      expected = {12, 24, 36};
    } else if (config.model.arch == "deeplabv2") {
      expected = os == 8 ? std::vector<int64_t>{6, 12, 18, 24} : std::vector<int64_t>{3, 6, 9, 12};
    } else {
      expected = os == 16 ? std::vector<int64_t>{6, 12, 18} : std::vector<int64_t>{12, 24, 36};
    }
    EXPECT_EQ(models::resolve_atrous_rates(model), expected) << GetParam() << " at output stride " << os;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, EveryConfig, ::testing::ValuesIn(experiment_configs()), test_name);
INSTANTIATE_TEST_SUITE_P(Shipped, EveryAsppConfig, ::testing::ValuesIn(aspp_configs()), test_name);

}  // namespace
}  // namespace deeplab::experiment
