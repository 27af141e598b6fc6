// RANK / WORLD_SIZE as launchers set them, flags over the environment, and
// errors that name the variable or flag at fault.

#include <gtest/gtest.h>

#include <cstdlib>

#include "deeplab/core/error.h"
#include "deeplab/core/process_env.h"

namespace deeplab::core {
namespace {

// Sets the variables for one test and restores their absence after it.
struct Env {
  Env(const char* rank, const char* world) {
    if (rank) ::setenv("RANK", rank, 1);
    if (world) ::setenv("WORLD_SIZE", world, 1);
  }
  ~Env() {
    ::unsetenv("RANK");
    ::unsetenv("WORLD_SIZE");
  }
};

std::string error_of(int rank, int world) {
  try {
    resolve_process_place(rank, world, "eval");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ProcessEnv, DefaultsEnvironmentAndFlags) {
  {
    Env env(nullptr, nullptr);
    EXPECT_EQ(process_place_from_env().rank, 0);
    EXPECT_EQ(process_place_from_env().world_size, 1);
  }
  Env env("1", "3");
  EXPECT_EQ(process_place_from_env().rank, 1);
  EXPECT_EQ(process_place_from_env().world_size, 3);
  const ProcessPlace flags = resolve_process_place(0, 2, "eval");  // flags win
  EXPECT_EQ(flags.rank, 0);
  EXPECT_EQ(flags.world_size, 2);
  EXPECT_EQ(resolve_process_place(-1, -1, "eval").world_size, 3);
}

TEST(ProcessEnv, BadValuesNameTheirSource) {
  {
    Env env("two", "4");
    try {
      process_place_from_env();
      FAIL() << "no error";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("RANK='two'"), std::string::npos) << e.what();
    }
  }
  {
    Env env("4", "4");
    EXPECT_THROW(process_place_from_env(), ConfigError);
  }
  EXPECT_NE(error_of(1, -1).find("give --rank and --world-size together"), std::string::npos);
  EXPECT_NE(error_of(3, 2).find("eval --rank/--world-size: rank 3 of world size 2"), std::string::npos);
}

}  // namespace
}  // namespace deeplab::core
