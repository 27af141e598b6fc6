// Every kind of config error names the culprit: file and line (or the --set
// flag), the full key path, the bad value, and what is allowed.

#include <gtest/gtest.h>

#include "deeplab/core/error.h"
#include "deeplab/experiment/config.h"
#include "tests/support/test_support.h"

namespace deeplab::experiment {
namespace {
using namespace deeplab::core;  // the YAML machinery the experiment config is read with

using testing::TempDir;

// Loads and returns the ConfigError message (fails the test if none is thrown).
std::string error_of(const std::string& path, const std::vector<std::string>& overrides = {}) {
  try {
    load_config(path, overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError for " << path;
  return "";
}

void expect_contains(const std::string& text, const std::vector<std::string>& parts) {
  for (const auto& part : parts) EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

TEST(ConfigErrors, UnknownTopLevelKeyNamesFileLineAndSuggestion) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "train:\n  lr: 0.1\nmodle:\n  num_classes: 3\n");
  expect_contains(error_of(file), {file + ":3", "unknown key 'modle'", "did you mean 'model'"});
}

TEST(ConfigErrors, UnknownNestedKeyNamesFullPath) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "model:\n  backbone:\n    output_strid: 8\n");
  expect_contains(error_of(file),
                  {file + ":3", "model.backbone.output_strid", "did you mean 'output_stride'", "valid keys"});
}

TEST(ConfigErrors, UnknownKeyInBaseNamesTheBaseFile) {
  TempDir dir;
  const std::string base = dir.write("base.yaml", "data:\n  batch_sise: 4\n");
  const std::string top = dir.write("top.yaml", "_base_: base.yaml\ntrain:\n  lr: 0.1\n");
  expect_contains(error_of(top), {base + ":2", "data.batch_sise", "batch_size"});
}

TEST(ConfigErrors, UnknownKeyFromOverrideNamesTheFlag) {
  TempDir dir;
  const std::string file = dir.write("ok.yaml", "");
  expect_contains(error_of(file, {"train.lrr=0.1"}), {"--set train.lrr=0.1", "train.lrr", "did you mean 'lr'"});
}

TEST(ConfigErrors, WrongScalarType) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "train:\n  max_iters: 10\n  lr: fast\n");
  expect_contains(error_of(file), {file + ":3", "train.lr", "expected a number", "'fast'"});
}

TEST(ConfigErrors, FloatWhereIntegerExpected) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "train:\n  max_iters: 1.5\n");
  expect_contains(error_of(file), {file + ":2", "train.max_iters", "expected an integer", "'1.5'"});
}

TEST(ConfigErrors, NonBooleanFlag) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "data:\n  flip: maybe\n");
  expect_contains(error_of(file), {"data.flip", "expected true or false", "'maybe'"});
}

TEST(ConfigErrors, ScalarWhereListExpected) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "data:\n  crop_size: 513\n");
  expect_contains(error_of(file), {file + ":2", "data.crop_size", "expected a list"});
}

TEST(ConfigErrors, ListOfWrongLength) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "data:\n  crop_size: [513, 513, 3]\n");
  expect_contains(error_of(file), {"data.crop_size", "list of 2 values", "got 3"});
}

TEST(ConfigErrors, BadListElementNamesItsIndex) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "eval:\n  scales: [0.5, -1.0]\n");
  expect_contains(error_of(file), {file + ":2", "eval.scales[1]", "-1.0", "> 0"});
}

TEST(ConfigErrors, ScalarWhereSectionExpected) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "train:\n  optimizer: sgd\n");
  expect_contains(error_of(file), {file + ":2", "train.optimizer", "expected a section"});
}

TEST(ConfigErrors, OutOfRangeNamesValueAndRange) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "train:\n  lr: -0.1\n");
  expect_contains(error_of(file), {file + ":2", "train.lr", "-0.1", "out of range", "> 0"});
  const std::string closed = dir.write("bad2.yaml", "train:\n  optimizer:\n    momentum: 1.0\n");
  expect_contains(error_of(closed), {"train.optimizer.momentum", "1.0", "in [0, 1)"});
}

TEST(ConfigErrors, ValueNotAmongChoices) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "model:\n  backbone:\n    name: resnet5O\n");
  expect_contains(error_of(file),
                  {file + ":3", "model.backbone.name", "'resnet5O'", "one of:", "did you mean 'resnet50'"});
  const std::string stride = dir.write("bad2.yaml", "model:\n  backbone:\n    output_stride: 12\n");
  expect_contains(error_of(stride), {"model.backbone.output_stride", "12", "one of: 8, 16, 32"});
}

TEST(ConfigErrors, PredicateCheckSaysWhatIsExpected) {
  TempDir dir;
  const std::string file = dir.write("ok.yaml", "");
  expect_contains(error_of(file, {"runtime.device=gpu0"}),
                  {"--set runtime.device=gpu0", "runtime.device", "'gpu0'", "cpu, cuda, cuda:N or auto"});
}

TEST(ConfigErrors, MalformedOverride) {
  TempDir dir;
  const std::string file = dir.write("ok.yaml", "");
  expect_contains(error_of(file, {"train.lr"}), {"--set train.lr", "KEY=VALUE"});
  expect_contains(error_of(file, {"train..lr=1"}), {"--set train..lr=1", "empty key"});
}

TEST(ConfigErrors, MissingFile) {
  expect_contains(error_of("/nonexistent/exp.yaml"), {"/nonexistent/exp.yaml", "does not exist"});
}

TEST(ConfigErrors, MissingBaseFile) {
  TempDir dir;
  const std::string file = dir.write("top.yaml", "_base_: [nothere.yaml]\n");
  expect_contains(error_of(file), {file + ":1", "nothere.yaml", "does not exist"});
}

TEST(ConfigErrors, BaseCycle) {
  TempDir dir;
  dir.write("a.yaml", "_base_: b.yaml\n");
  const std::string b = dir.write("b.yaml", "_base_: a.yaml\n");
  expect_contains(error_of(b), {"includes itself"});
}

TEST(ConfigErrors, YamlSyntaxErrorNamesLine) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "train:\n  lr: 0.1\n  steps: [1, 2\n");
  expect_contains(error_of(file), {file + ":", "YAML syntax error"});
}

TEST(ConfigErrors, TopLevelMustBeAMapping) {
  TempDir dir;
  const std::string file = dir.write("bad.yaml", "- a\n- b\n");
  expect_contains(error_of(file), {file + ":1", "mapping of sections"});
}

}  // namespace
}  // namespace deeplab::experiment
