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

}  // namespace deeplab::testing
