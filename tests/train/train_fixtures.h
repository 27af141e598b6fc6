#pragma once
// Small generated datasets for the training tests (written by the real
// `deeplab data synth`), shared by every test in the process.

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
