// The `deeplab` binary as users meet it: versions, config printing, and
// errors as one clear line with a non-zero exit.

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "tests/support/test_support.h"

namespace deeplab {
namespace {

using testing::run_deeplab;

void expect_no_crash_output(const std::string& output) {
  EXPECT_EQ(output.find("terminate called"), std::string::npos) << output;
  EXPECT_EQ(output.find("Exception raised from"), std::string::npos) << output;
}

TEST(Cli, VersionPrintsLibTorchBlasThreadsAndCuda) {
  const auto result = run_deeplab("--version");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  for (const char* part : {"deeplab ", "LibTorch", "BLAS:", "threads:", "CUDA:"}) {
    EXPECT_NE(result.output.find(part), std::string::npos) << result.output;
  }
}

TEST(Cli, HelpListsSubcommands) {
  const auto result = run_deeplab("--help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.output.find("config"), std::string::npos) << result.output;
}

// The worker command's own options given without `--` are named, with where
// they belong; a worker count the machine cannot serve is refused before
// anything starts.
TEST(Cli, LaunchSaysWhereTheWorkersCommandGoesAndRefusesImpossibleCounts) {
  auto result = run_deeplab("launch --nproc-per-node 2 train -c some.yaml");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("'-c' is not an option of launch; put the workers' command after --"), std::string::npos)
      << result.output;
  result = run_deeplab("launch --nproc-per-node 100000 -- frobnicate");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("--nproc-per-node 100000: CPU workers are limited to"), std::string::npos)
      << result.output;
  expect_no_crash_output(result.output);
}

TEST(Cli, ConfigPrintShowsOverride) {
  const std::string config = testing::source_dir() + "/configs/quickstart/synthetic_voc.yaml";
  const auto result = run_deeplab("config print -c " + config + " --set train.lr=0.5");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("lr: 0.5"), std::string::npos) << result.output;
}

TEST(Cli, MisspelledSectionFailsWithOneClearLine) {
  testing::TempDir dir;
  const std::string file = dir.write("typo.yaml", "# a comment\nmodle:\n  num_classes: 3\n");
  const auto result = run_deeplab("config print -c " + file);
  EXPECT_NE(result.exit_code, 0);
  for (const std::string& part : std::vector<std::string>{"error: ", "modle", file + ":2", "'model'"}) {
    EXPECT_NE(result.output.find(part), std::string::npos) << part << " missing in: " << result.output;
  }
  expect_no_crash_output(result.output);
}

TEST(Cli, UnknownSubcommandAndBadLogLevelFail) {
  EXPECT_NE(run_deeplab("frobnicate").exit_code, 0);
  const auto result = run_deeplab("--log-level loud --version");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("'loud'"), std::string::npos) << result.output;
  expect_no_crash_output(result.output);
}

// Every subcommand applies runtime.log_level, and --log-level wins over it
// (train used to reset the level from the config after the flag was read).
TEST(Cli, LogLevelFlagWinsOverTheConfig) {
  testing::TempDir dir;
  auto config = [&](const std::string& level) {
    return dir.write("log_" + level + ".yaml",
                     "data: {root: " + dir.path() + "/no_data}\nruntime: {log_level: " + level + ", device: cpu}\n");
  };
  auto info_lines = [&](const std::string& flag, const std::string& level) {
    const auto result =
        run_deeplab(flag + " train -c " + config(level) + " --work-dir " + dir.path() + "/run_" + level);
    EXPECT_NE(result.exit_code, 0) << result.output;  // no data: the run stops before writing anything
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/run_" + level)) << "a run that cannot start writes nothing";
    return result.output.find(" -> " + dir.path() + "/run_" + level + ": ") != std::string::npos;
  };
  EXPECT_TRUE(info_lines("", "info"));
  EXPECT_FALSE(info_lines("", "warn"));
  EXPECT_FALSE(info_lines("--log-level warn", "info"));
  EXPECT_TRUE(info_lines("--log-level info", "warn"));
}

}  // namespace
}  // namespace deeplab
