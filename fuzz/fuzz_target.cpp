// The libFuzzer entry point of one target; DEEPLAB_FUZZ_BODY names its body
// (fuzz/fuzz_bodies.cpp).  Built once per body by fuzz/CMakeLists.txt.

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_bodies.h"

#ifndef DEEPLAB_FUZZ_BODY
#error "DEEPLAB_FUZZ_BODY must name a body of fuzz/fuzz_bodies.cpp"
#endif

namespace {
const deeplab::fuzz::FuzzBody* g_body = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // config warnings would flood the fuzzer's output
  g_body = deeplab::fuzz::find_fuzz_body(DEEPLAB_FUZZ_BODY);
  if (!g_body) {
    std::fprintf(stderr, "no fuzz body '%s'\n", DEEPLAB_FUZZ_BODY);
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g_body->run(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
