#pragma once
// Generated datasets on disk, written by the real `deeplab data synth`: for
// the tests that go through a config file or the command line end to end.
// Tests of the library build their data in memory instead
// (tests/train/train_fixtures.h).

#include <stdexcept>
#include <string>

#include "tests/support/test_support.h"

namespace deeplab::testing {

/// Root of a generated VOC-layout set of `num` images of size x size.
inline std::string synthetic_voc(const TempDir& dir, int num, int size) {
  const std::string root = dir.path() + "/voc";
  const auto result = run_deeplab("data synth --layout voc --out " + root + " --num " + std::to_string(num) +
                                  " --size " + std::to_string(size) + "x" + std::to_string(size) + " --seed 5");
  if (result.exit_code != 0) throw std::runtime_error("data synth failed: " + result.output);
  return root;
}

/// Root of a generated Cityscapes-layout set.
inline std::string synthetic_cityscapes(const TempDir& dir, int num) {
  const std::string root = dir.path() + "/cityscapes";
  const auto result = run_deeplab("data synth --layout cityscapes --out " + root + " --num " + std::to_string(num) +
                                  " --size 64x128 --seed 5");
  if (result.exit_code != 0) throw std::runtime_error("data synth failed: " + result.output);
  return root;
}

/// Root of a generated set in `layout` (ade20k, coco_stuff, pascal_context ...).
inline std::string synthetic_layout(const TempDir& dir, const std::string& layout, int num, int size) {
  const std::string root = dir.path() + "/" + layout;
  const auto result = run_deeplab("data synth --layout " + layout + " --out " + root + " --num " + std::to_string(num) +
                                  " --size " + std::to_string(size) + "x" + std::to_string(size) + " --seed 5");
  if (result.exit_code != 0) throw std::runtime_error("data synth failed: " + result.output);
  return root;
}

/// The split a layout's generated training images are in.
inline std::string synthetic_train_split(const std::string& layout) {
  if (layout == "ade20k") return "training";
  if (layout == "coco_stuff") return "train2017";
  return "train";
}

}  // namespace deeplab::testing
