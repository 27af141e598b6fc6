// Every seed (fuzz/corpus/<target>) and every input that once crashed a fuzz
// target (fuzz/regressions/<target>, kept with its fix) goes through that
// target's body again: nothing but a deeplab::Error may come out.  Under
// scripts/test.sh --sanitize this also checks them with ASan and UBSan.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "deeplab/core/fs_util.h"
#include "fuzz/fuzz_bodies.h"
#include "tests/support/test_support.h"

namespace deeplab::fuzz {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename() != "README.md") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const FuzzBody& body, const std::vector<std::string>& files) {
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    EXPECT_NO_THROW(body.run(core::read_file(path)));
  }
}

class FuzzReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzReplay, SeedsAndFoundCrashesGiveOnlyDeeplabErrors) {
  const FuzzBody* body = find_fuzz_body(GetParam());
  ASSERT_NE(body, nullptr);
  const auto seeds = files_in(fs::path(testing::source_dir()) / "fuzz" / "corpus" / body->name);
  EXPECT_GE(seeds.size(), 2u) << "every target starts from seeds kept in the tree";
  replay(*body, seeds);
  replay(*body, files_in(fs::path(testing::source_dir()) / "fuzz" / "regressions" / body->name));
}

INSTANTIATE_TEST_SUITE_P(EveryTarget, FuzzReplay,
                         ::testing::Values("png_label", "image", "video", "pth", "safetensors", "config",
                                           "coco_panoptic_json", "meta_json"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(FuzzReplay, EveryBodyIsReplayedAndEveryCorpusFolderHasABody) {
  std::set<std::string> bodies;
  for (const FuzzBody& body : fuzz_bodies()) bodies.insert(body.name);
  EXPECT_EQ(bodies.size(), 8u);
  for (const char* folder : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(testing::source_dir()) / "fuzz" / folder;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_directory()) continue;
      EXPECT_TRUE(bodies.count(entry.path().filename().string())) << entry.path();
    }
  }
}

}  // namespace
}  // namespace deeplab::fuzz
