// The weight average (train.ema) against its formula step by step, integer
// buffers copied, following the weights until start_iter, applied and given
// back, and its checkpoint state read back (or kept when a checkpoint has none).

#include "deeplab/train/weight_average.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::train {
namespace {

struct Net : torch::nn::Module {
  Net() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

void set_weights(Net& net, double value, int64_t batches) {
  torch::NoGradGuard no_grad;
  net.fc->weight.fill_(value);
  net.fc->bias.fill_(-value);
  net.bn->running_mean.fill_(2 * value);
  net.bn->num_batches_tracked.fill_(batches);
}

TEST(WeightAverage, FollowsTheFormulaAfterStartIter) {
  Net net;
  set_weights(net, 1.0, 0);
  WeightAverage average(net, /*decay=*/0.75, /*start_iter=*/2);
  // Iterations 1 and 2 (<= start_iter): the average is the weights.
  set_weights(net, 3.0, 1);
  average.update(net, 1);
  set_weights(net, 5.0, 2);
  average.update(net, 2);
  EXPECT_DOUBLE_EQ(average.state_dict().at("fc.weight")[0][0].item<double>(), 5.0);
  // Then 0.75 * avg + 0.25 * w: 0.75 * 5 + 0.25 * 9 = 6; 0.75 * 6 + 0.25 * 2 = 5.
  set_weights(net, 9.0, 3);
  average.update(net, 3);
  set_weights(net, 2.0, 4);
  average.update(net, 4);
  const TensorMap state = average.state_dict();
  EXPECT_DOUBLE_EQ(state.at("fc.weight")[1][2].item<double>(), 5.0);
  EXPECT_DOUBLE_EQ(state.at("fc.bias")[0].item<double>(), -5.0);
  EXPECT_DOUBLE_EQ(state.at("bn.running_mean")[1].item<double>(), 10.0) << "floating buffers are averaged";
  EXPECT_EQ(state.at("bn.num_batches_tracked").item<int64_t>(), 4) << "integer buffers are copied";
}

TEST(WeightAverage, AppliedForItsLifetimeThenTheWeightsComeBack) {
  Net net;
  set_weights(net, 1.0, 0);
  WeightAverage average(net, 0.5, 0);
  set_weights(net, 3.0, 1);
  average.update(net, 1);  // 0.5 * 1 + 0.5 * 3
  {
    const WeightAverage::Applied applied(average, net);
    EXPECT_DOUBLE_EQ(net.fc->weight[0][0].item<double>(), 2.0);
    EXPECT_DOUBLE_EQ(net.bn->running_mean[0].item<double>(), 4.0);
  }
  EXPECT_DOUBLE_EQ(net.fc->weight[0][0].item<double>(), 3.0);
  EXPECT_DOUBLE_EQ(net.bn->running_mean[0].item<double>(), 6.0);
}

TEST(WeightAverage, CheckpointStateReadsBackAndAnOlderCheckpointKeepsTheAverage) {
  Net net;
  set_weights(net, 1.0, 0);
  WeightAverage average(net, 0.5, 0);
  set_weights(net, 7.0, 1);
  average.update(net, 1);
  WeightAverage restored(net, 0.5, 0);
  restored.load_state_dict(average.state_dict());
  EXPECT_DOUBLE_EQ(restored.state_dict().at("fc.weight")[0][0].item<double>(), 4.0);
  restored.load_state_dict({});  // a checkpoint from before train.ema was on
  EXPECT_DOUBLE_EQ(restored.state_dict().at("fc.weight")[0][0].item<double>(), 4.0);
  TensorMap partial = average.state_dict();
  partial.erase("fc.bias");
  try {
    restored.load_state_dict(partial);
    FAIL() << "a missing entry must be named";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'fc.bias'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::train
