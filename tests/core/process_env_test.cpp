// RANK / WORLD_SIZE as launchers set them, flags over the environment, and
// errors that name the variable or flag at fault.

#include "deeplab/core/process_env.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "deeplab/core/error.h"

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

// Sets any variables for one test and unsets them (and every launcher
// variable) after it, so tests never see each other's environment.
struct ScopedEnv {
  explicit ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> values) {
    clear();
    for (const auto& [name, value] : values) ::setenv(name, value, 1);
  }
  ~ScopedEnv() { clear(); }
  static void clear() {
    for (const char* name :
         {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
          "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID",
          "SLURM_NTASKS_PER_NODE", "SLURM_JOB_NODELIST", "SLURM_NODELIST", "SLURM_JOB_ID"}) {
      ::unsetenv(name);
    }
  }
};

TEST(Rendezvous, OneProcessWithoutLauncherVariables) {
  ScopedEnv env({});
  const Rendezvous r = rendezvous_from_env();
  EXPECT_FALSE(r.distributed());
  EXPECT_EQ(r.source, "none");
}

TEST(Rendezvous, TorchrunVariablesIncludingTheAgentStore) {
  ScopedEnv env({{"RANK", "3"},
                 {"WORLD_SIZE", "4"},
                 {"LOCAL_RANK", "1"},
                 {"LOCAL_WORLD_SIZE", "2"},
                 {"MASTER_ADDR", "node7"},
                 {"MASTER_PORT", "29411"},
                 {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                 {"TORCHELASTIC_RESTART_COUNT", "2"},
                 {"SLURM_NTASKS", "8"}});  // torchrun wins over Slurm
  const Rendezvous r = rendezvous_from_env();
  EXPECT_EQ(r.source, "torchrun");
  EXPECT_EQ(r.rank, 3);
  EXPECT_EQ(r.world_size, 4);
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_EQ(r.local_world_size, 2);
  EXPECT_FALSE(r.single_machine());
  EXPECT_EQ(r.master_addr, "node7");
  EXPECT_EQ(r.master_port, 29411);
  EXPECT_TRUE(r.agent_store);
  EXPECT_EQ(r.restart_count, 2);
}

TEST(Rendezvous, SlurmVariablesWithTheFirstHostAndAJobPort) {
  ScopedEnv env({{"SLURM_PROCID", "5"},
                 {"SLURM_NTASKS", "8"},
                 {"SLURM_LOCALID", "1"},
                 {"SLURM_NTASKS_PER_NODE", "4(x2)"},
                 {"SLURM_JOB_NODELIST", "gpu[007-008],cpu1"},
                 {"SLURM_JOB_ID", "123456"}});
  const Rendezvous r = rendezvous_from_env();
  EXPECT_EQ(r.source, "slurm");
  EXPECT_EQ(r.rank, 5);
  EXPECT_EQ(r.world_size, 8);
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_EQ(r.local_world_size, 4);
  EXPECT_EQ(r.master_addr, "gpu007");
  EXPECT_EQ(r.master_port, 15000 + 123456 % 20000);
  ::setenv("MASTER_PORT", "20001", 1);  // the torchrun names override
  EXPECT_EQ(rendezvous_from_env().master_port, 20001);
}

TEST(Rendezvous, SlurmNodeListsExpand) {
  using V = std::vector<std::string>;
  EXPECT_EQ(expand_slurm_nodelist("node1"), V({"node1"}));
  EXPECT_EQ(expand_slurm_nodelist("gpu[01-03,7],cpu1"), V({"gpu01", "gpu02", "gpu03", "gpu7", "cpu1"}));
  EXPECT_EQ(expand_slurm_nodelist("r[1-2]-n[08-09]"), V({"r1-n08", "r1-n09", "r2-n08", "r2-n09"}));
  EXPECT_EQ(expand_slurm_nodelist("a[9-10]"), V({"a9", "a10"}));
}

TEST(Rendezvous, BadVariablesNameTheCulprit) {
  const auto error_of = [](std::initializer_list<std::pair<const char*, const char*>> values) {
    ScopedEnv env(values);
    try {
      rendezvous_from_env();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "http"}}).find("MASTER_PORT='http'"),
            std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"LOCAL_RANK", "3"}, {"LOCAL_WORLD_SIZE", "2"}})
                .find("LOCAL_RANK/LOCAL_WORLD_SIZE"),
            std::string::npos);
  EXPECT_NE(error_of({{"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "0"}, {"SLURM_JOB_NODELIST", "gpu[3-1]"}})
                .find("'gpu[3-1]': bad range '3-1'"),
            std::string::npos);
  EXPECT_NE(
      error_of({{"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "0"}, {"SLURM_JOB_NODELIST", "gpu[1-2"}}).find("unbalanced"),
      std::string::npos);
}

}  // namespace
}  // namespace deeplab::core
