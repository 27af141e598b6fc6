// Optimizer state through an archive: every parameter gets its own state
// back, and an archive naming parameters by hexadecimal addresses (as
// LibTorch 1.x writes them; tests/experiment's format-1 checkpoint is one) is
// recognised.  The end-to-end resume of that 1.x checkpoint is in
// tests/experiment/old_checkpoint_test.cpp.

#include "deeplab/train/optimizer_archive.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <sstream>

#include "tests/support/test_support.h"

namespace deeplab::train {
namespace {

struct TwoParameters {
  torch::Tensor a = torch::randn({4, 3}).requires_grad_(), b = torch::randn({7}).requires_grad_();
  torch::optim::AdamW optimizer{std::vector<torch::Tensor>{a, b}, torch::optim::AdamWOptions(0.1)};
  void step() {
    optimizer.zero_grad();
    ((a * a).sum() + (b * 3).sum()).backward();
    optimizer.step();
  }
};

// LibTorch 1.x keys the state by the address as text, 2.x by the address.
const torch::optim::AdamWParamState& state_of(torch::optim::Optimizer& optimizer, const torch::Tensor& parameter) {
#if TORCH_VERSION_MAJOR >= 2
  const auto& state = *optimizer.state().at(parameter.unsafeGetTensorImpl());
#else
  const auto& state = *optimizer.state().at(c10::guts::to_string(parameter.unsafeGetTensorImpl()));
#endif
  return static_cast<const torch::optim::AdamWParamState&>(state);
}

torch::serialize::InputArchive round_trip(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive out;
  optimizer.save(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  return in;
}

TEST(OptimizerArchive, EveryParameterGetsItsOwnStateBack) {
  torch::manual_seed(1);
  TwoParameters saved;
  saved.step();
  saved.step();
  auto archive = round_trip(saved.optimizer);
  // LibTorch 1.x writes hexadecimal parameter keys, 2.x decimal ones.
  EXPECT_EQ(has_hexadecimal_parameter_keys(archive), TORCH_VERSION_MAJOR < 2);

  TwoParameters loaded;
  load_optimizer_state(loaded.optimizer, archive);
  for (const auto& [mine, theirs] : {std::pair{&loaded.a, &saved.a}, std::pair{&loaded.b, &saved.b}}) {
    const auto& state = state_of(loaded.optimizer, *mine);
    const auto& expected = state_of(saved.optimizer, *theirs);
    EXPECT_TRUE(torch::equal(state.exp_avg(), expected.exp_avg()));
    EXPECT_EQ(state.step(), 2);
  }
  loaded.step();  // the states fit their parameters
}

TEST(OptimizerArchive, TheFormat1CheckpointNamesParametersInHexadecimal) {
  torch::serialize::InputArchive checkpoint, optimizer;
  checkpoint.load_from(testing::source_dir() + "/tests/experiment/fixtures/format1/iter_0000002.ckpt");
  ASSERT_TRUE(checkpoint.try_read("optimizer", optimizer));
  EXPECT_TRUE(has_hexadecimal_parameter_keys(optimizer));
}

}  // namespace
}  // namespace deeplab::train
