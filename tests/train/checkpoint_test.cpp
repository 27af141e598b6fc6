// Checkpoints round-trip model, optimizer and every part's state under its
// own key; a process dying mid-write (injected through the same write path)
// leaves the previous checkpoint as the latest loadable one.

#include "deeplab/train/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

struct Net : torch::nn::Module {
  Net() {
    conv = register_module("conv", torch::nn::Conv2d(3, 4, 3));
    bn = register_module("bn", torch::nn::BatchNorm2d(4));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};

void one_step(Net& net, torch::optim::Optimizer& optimizer) {
  optimizer.zero_grad();
  net.bn->forward(net.conv->forward(torch::randn({2, 3, 8, 8}))).square().mean().backward();
  optimizer.step();
}

RunState example_state() {
  RunState state;
  state.trainer = {{"iteration", state_scalar(int64_t{7})}, {"epoch", state_scalar(int64_t{2})}};
  state.scaler = {{"scale", state_scalar(1024.0)}};
  state.hooks["eval"] = {{"best_miou", state_scalar(0.5)}, {"best_iteration", state_scalar(int64_t{6})}};
  state.ranks[0] = {{"rng.cpu", at::detail::getDefaultCPUGenerator().get_state()}};
  return state;
}

TEST(Checkpoint, RoundTripRestoresEverything) {
  testing::TempDir dir;
  Net a;
  torch::optim::SGD sgd_a(a.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  one_step(a, sgd_a);
  const RunState state = example_state();
  const std::string path = save_checkpoint(dir.path(), 7, a, sgd_a, state);
  EXPECT_EQ(std::filesystem::path(path).filename(), "iter_0000007.ckpt");

  Net b;
  torch::optim::SGD sgd_b(b.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  const RunState restored = load_checkpoint(path, b, sgd_b);
  EXPECT_EQ(state_int(restored.trainer, "iteration", -1), 7);
  EXPECT_EQ(state_int(restored.trainer, "epoch", -1), 2);
  EXPECT_EQ(state_int(restored.trainer, "absent", -1), -1);
  EXPECT_DOUBLE_EQ(state_double(restored.scaler, "scale", 0), 1024.0);
  EXPECT_DOUBLE_EQ(state_double(restored.hooks.at("eval"), "best_miou", 0), 0.5);
  EXPECT_EQ(state_int(restored.hooks.at("eval"), "best_iteration", 0), 6);
  EXPECT_TRUE(torch::equal(restored.ranks.at(0).at("rng.cpu"), state.ranks.at(0).at("rng.cpu")));
  for (const auto& item : a.named_buffers()) {
    EXPECT_TRUE(torch::equal(item.value(), b.named_buffers()[item.key()])) << item.key();
  }
  // Same momentum buffers: one more identical step keeps the weights equal.
  torch::manual_seed(1);
  one_step(a, sgd_a);
  torch::manual_seed(1);
  one_step(b, sgd_b);
  for (const auto& item : a.named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), b.named_parameters()[item.key()])) << item.key();
  }
}

TEST(Checkpoint, DyingMidWriteKeepsThePreviousCheckpoint) {
  testing::TempDir dir;
  Net net;
  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(0.1));
  const RunState state = example_state();
  const std::string good = save_checkpoint(dir.path(), 100, net, sgd, state);
  core::fail_next_atomic_write_after(300);  // "kill -9" 300 bytes into the next file
  EXPECT_THROW(save_checkpoint(dir.path(), 200, net, sgd, state), IoError);
  bool partial_left = false;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    partial_left |= e.path().filename().string().find(".tmp") != std::string::npos;
  }
  EXPECT_TRUE(partial_left);                       // what a killed process leaves behind ...
  EXPECT_EQ(latest_checkpoint(dir.path()), good);  // ... is never taken for a checkpoint
  Net other;
  torch::optim::SGD sgd_other(other.parameters(), torch::optim::SGDOptions(0.1));
  EXPECT_EQ(state_int(load_checkpoint(latest_checkpoint(dir.path()), other, sgd_other).trainer, "iteration", -1), 7);
}

TEST(Checkpoint, PruneKeepsTheNewestAndErrorsNameTheFile) {
  testing::TempDir dir;
  Net net;
  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(0.1));
  for (int it : {10, 20, 30, 40}) save_checkpoint(dir.path(), it, net, sgd, RunState{});
  prune_checkpoints(dir.path(), 2);
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) count += e.is_regular_file();
  EXPECT_EQ(count, 2);
  EXPECT_NE(latest_checkpoint(dir.path()).find("iter_0000040"), std::string::npos);
  const std::string garbage = dir.write("iter_0000050.ckpt", "not a checkpoint");
  try {
    load_checkpoint(garbage, net, sgd);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(garbage), std::string::npos);
  }
}

}  // namespace
}  // namespace deeplab::train
