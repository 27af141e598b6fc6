// Config loading: defaults, `_base_` merge order, `--set` overrides, and the
// effective config round trip.

#include "deeplab/experiment/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::experiment {
namespace {
using namespace deeplab::core;  // the YAML machinery the experiment config is read with

using testing::TempDir;

TEST(Config, EmptyFileGivesDefaults) {
  TempDir dir;
  const Config config = load_config(dir.write("empty.yaml", ""));
  const Config defaults;
  EXPECT_EQ(config_to_yaml(config), config_to_yaml(defaults));
  EXPECT_EQ(config.model.backbone.output_stride, 16);
  EXPECT_EQ(config.data.crop_size, (std::vector<int>{513, 513}));
}

TEST(Config, BaseFilesMergeInOrderThenFileOnTop) {
  TempDir dir;
  dir.write("bases/a.yaml", "train:\n  lr: 0.1\n  max_iters: 100\nmodel:\n  num_classes: 5\n");
  dir.write("bases/b.yaml", "train:\n  lr: 0.2\n  optimizer:\n    momentum: 0.5\n");
  const std::string top = dir.write("top.yaml",
                                    "_base_: [bases/a.yaml, bases/b.yaml]\n"
                                    "train:\n  optimizer:\n    nesterov: true\n");
  const Config config = load_config(top);
  EXPECT_DOUBLE_EQ(config.train.lr, 0.2);  // b after a
  EXPECT_EQ(config.train.max_iters, 100);  // kept from a: maps merge deeply
  EXPECT_DOUBLE_EQ(config.train.optimizer.momentum, 0.5);
  EXPECT_TRUE(config.train.optimizer.nesterov);  // the file itself on top
  EXPECT_EQ(config.model.num_classes, 5);
}

TEST(Config, FileOverridesItsBaseAndBasesNest) {
  TempDir dir;
  dir.write("root.yaml", "train:\n  lr: 0.5\n  max_iters: 7\n");
  dir.write("mid.yaml", "_base_: root.yaml\ntrain:\n  lr: 0.25\n");
  const std::string top = dir.write("top.yaml", "_base_: mid.yaml\ntrain:\n  lr: 0.125\n");
  const Config config = load_config(top);
  EXPECT_DOUBLE_EQ(config.train.lr, 0.125);
  EXPECT_EQ(config.train.max_iters, 7);
}

// "No pretrained file" is spelled null (the YAML way), ~ or "" (the old way),
// in a file over a base that names one, or with --set.
TEST(Config, PretrainedNullOrEmptyMeansTrainFromScratch) {
  TempDir dir;
  dir.write("base.yaml", "model:\n  backbone:\n    pretrained: datasets/weights/resnet101-63fe2227.pth\n");
  for (const char* spelling : {"null", "~", "\"\"", "Null", ""}) {
    const std::string top = dir.write(
        "top.yaml", std::string("_base_: base.yaml\nmodel:\n  backbone:\n    pretrained: ") + spelling + "\n");
    EXPECT_EQ(load_config(top).model.backbone.pretrained, "") << "pretrained: " << spelling;
  }
  const std::string base = dir.file("base.yaml");
  EXPECT_EQ(load_config(base).model.backbone.pretrained, "datasets/weights/resnet101-63fe2227.pth");
  for (const char* flag :
       {"model.backbone.pretrained=null", "model.backbone.pretrained=", "model.backbone.pretrained=~"}) {
    EXPECT_EQ(load_config(base, {flag}).model.backbone.pretrained, "") << "--set " << flag;
  }
}

TEST(Config, ListsAreReplacedNotConcatenated) {
  TempDir dir;
  dir.write("base.yaml", "model:\n  head:\n    atrous_rates: [6, 12, 18]\n");
  const std::string top = dir.write("top.yaml", "_base_: base.yaml\nmodel:\n  head:\n    atrous_rates: [12, 24]\n");
  EXPECT_EQ(load_config(top).model.head.atrous_rates, (std::vector<int>{12, 24}));
}

TEST(Config, OverridesWinOverFilesAndParseYamlValues) {
  TempDir dir;
  const std::string file = dir.write("c.yaml", "train:\n  lr: 0.1\nmodel:\n  backbone:\n    name: resnet50\n");
  const Config config = load_config(file, {"train.lr=0.01", "model.backbone.name=resnet101",
                                           "data.crop_size=[321, 257]", "train.optimizer.nesterov=true"});
  EXPECT_DOUBLE_EQ(config.train.lr, 0.01);
  EXPECT_EQ(config.model.backbone.name, "resnet101");
  EXPECT_EQ(config.data.crop_size, (std::vector<int>{321, 257}));
  EXPECT_TRUE(config.train.optimizer.nesterov);
}

TEST(Config, LaterOverrideWins) {
  TempDir dir;
  const std::string file = dir.write("c.yaml", "");
  EXPECT_DOUBLE_EQ(load_config(file, {"train.lr=0.3", "train.lr=0.4"}).train.lr, 0.4);
}

TEST(Config, EffectiveConfigRoundTrips) {
  TempDir dir;
  const std::string file = dir.write("c.yaml", "train:\n  lr: 0.01\n  optimizer:\n    weight_decay: 4.0e-5\n");
  const Config config = load_config(file, {"eval.scales=[0.5, 0.75, 1.0]"});
  write_effective_config(config, dir.file("run"));
  const std::string written = read_file(dir.file("run/config.yaml"));
  EXPECT_NE(written.find("lr: 0.01"), std::string::npos) << written;
  const Config reloaded = load_config(dir.file("run/config.yaml"));
  EXPECT_EQ(config_to_yaml(reloaded), written);
  EXPECT_DOUBLE_EQ(reloaded.train.optimizer.weight_decay, 4.0e-5);
  EXPECT_EQ(reloaded.eval.scales, (std::vector<double>{0.5, 0.75, 1.0}));
}

TEST(Config, EveryShippedConfigLoads) {
  namespace fs = std::filesystem;
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(testing::source_dir() + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(load_config(entry.path().string()));
    ++count;
  }
  EXPECT_GE(count, 3);
}

// Images are normalised as the backbone's pretrained weights expect unless
// the config sets data.mean / data.std (each on its own).
TEST(Config, NormalisationFollowsTheBackbonesPretrainingUnlessSet) {
  TempDir dir;
  const std::vector<double> half = {0.5, 0.5, 0.5}, imagenet_mean = {0.485, 0.456, 0.406};
  const Config xception = load_config(testing::source_path("configs/voc/deeplabv3plus_xception65_os16_voc.yaml"));
  EXPECT_EQ(xception.data.mean, half);
  EXPECT_EQ(xception.data.std, half);
  const Config resnet = load_config(testing::source_path("configs/voc/deeplabv3plus_resnet101_os16_voc.yaml"));
  EXPECT_EQ(resnet.data.mean, imagenet_mean);
  const Config set =
      load_config(dir.write("x.yaml", "model:\n  backbone: {name: xception71}\ndata:\n  mean: [0.4, 0.4, 0.4]\n"));
  EXPECT_EQ(set.data.mean, (std::vector<double>{0.4, 0.4, 0.4}));
  EXPECT_EQ(set.data.std, half);
  const Config overridden =
      load_config(dir.write("y.yaml", "model:\n  backbone: {name: xception65}\n"), {"data.std=[0.2, 0.2, 0.2]"});
  EXPECT_EQ(overridden.data.mean, half);
  EXPECT_EQ(overridden.data.std, (std::vector<double>{0.2, 0.2, 0.2}));
}

TEST(Config, RetiredFreezeBnReadsAsFrozenNorm) {
  TempDir dir;
  const Config config = load_config(dir.write("old.yaml", "train:\n  freeze_bn: true\n"));
  EXPECT_EQ(config.model.norm, "frozen_bn");
  EXPECT_FALSE(config.train.freeze_bn);
  EXPECT_EQ(load_config(dir.write("new.yaml", "model:\n  norm: frozen_bn\n")).model.norm, "frozen_bn");
  EXPECT_EQ(load_config(dir.write("default.yaml", "")).model.norm, "bn");
  EXPECT_THROW(load_config(dir.write("bad.yaml", "model:\n  norm: batch\n")), ConfigError);
}

}  // namespace
}  // namespace deeplab::experiment
