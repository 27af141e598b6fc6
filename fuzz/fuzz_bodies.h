#pragma once
// One body per parser of outside bytes, shared by the libFuzzer targets
// (fuzz/fuzz_target.cpp, built by scripts/fuzz.sh with clang) and by the test
// that replays every seed and every crash ever found (tests/fuzz).  A body
// feeds the bytes to the project's reader the way the tool reads such a file,
// and lets only deeplab::Error through as an expected outcome: any other
// exception, a crash or a sanitizer report is a finding.

#include <string>
#include <vector>

namespace deeplab::fuzz {

struct FuzzBody {
  const char* name;  // also the folder of its seeds (fuzz/corpus/NAME) and crashes (fuzz/regressions/NAME)
  void (*run)(const std::string& bytes);
};

/// Every body, by name.
const std::vector<FuzzBody>& fuzz_bodies();

/// The body called `name`; nullptr when there is none.
const FuzzBody* find_fuzz_body(const std::string& name);

}  // namespace deeplab::fuzz
