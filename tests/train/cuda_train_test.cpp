// Training on a GPU: a resumed CUDA run continues as the straight one did
// (its CUDA generator state is in the checkpoint), a CUDA checkpoint resumes
// on the CPU, fp16 autocast with the gradient scaler and bf16 autocast train,
// pinned batches reach the GPU, and NCCL (all-reduce, broadcast, all-gather,
// SyncBN) works at one rank.  The GPU tests skip without a visible GPU
// (scripts/gpu/check.sh runs them on a lent one); the error for NCCL on a
// CPU run is checked everywhere.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <numeric>

#include "deeplab/core/error.h"
#include "deeplab/core/process_group.h"
#include "deeplab/models/layers/norm.h"
#include "tests/support/multiprocess.h"
#include "tests/support/test_support.h"
#include "tests/train/train_fixtures.h"

namespace deeplab::train {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible: CUDA training paths not checked"

const c10::Device kGpu(c10::kCUDA, 0);

TrainConfig small_train(int max_iters, const std::string& amp = "none", const std::string& optimizer = "adamw") {
  TrainConfig t;
  t.max_iters = max_iters;
  t.lr = 0.01;
  t.optimizer.name = optimizer;
  t.amp = amp;
  return t;
}

// The head's dropout (0.5) draws from the CUDA generator every step, so a
// resume that lost the generator's state would differ at once.
Trainer make(const testing::TempDir& dir, int max_iters, c10::Device device, const std::string& amp = "none",
             const std::string& optimizer = "adamw") {
  return testing::trainer_from_parts(testing::tiny_deeplab("bn", /*aux=*/false, /*dropout=*/0.5),
                                     testing::memory_loader(testing::memory_voc(6, 40), 2, 32, true, 0,
                                                            /*pin_memory=*/device.is_cuda()),
                                     small_train(max_iters, amp, optimizer), dir.path(), device);
}

// Bilinear upsampling's backward adds with atomics on the GPU, so two runs of
// the same steps differ in the last bits; a lost generator state changes the
// loss by orders of magnitude more (the dropout masks).  The run uses SGD:
// Adam's first steps move every weight by about lr * sign(gradient), so a
// gradient that is zero but for those last bits would move by lr either way
// (on an H200, 1e-3 of the loss after one step).
constexpr double kSameRunTolerance = 1e-4;

TEST(CudaTraining, ResumedRunContinuesAsTheStraightOne) {
  SKIP_WITHOUT_GPU();
  at::globalContext().setDeterministicCuDNN(true);
  testing::TempDir dir;
  torch::manual_seed(11);
  Trainer straight = make(dir, 6, kGpu, "none", "sgd");
  std::vector<double> expected;
  for (int i = 0; i < 6; ++i) expected.push_back(straight.run_step().loss);

  torch::manual_seed(11);
  Trainer stopped = make(dir, 6, kGpu, "none", "sgd");
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(stopped.run_step().loss, expected[i], kSameRunTolerance * expected[i]);
  const std::string path = stopped.save_checkpoint(dir.file("ckpt"));
  torch::manual_seed(999);  // the resume must restore the generators, not rely on this process's
  Trainer resumed = make(dir, 6, kGpu, "none", "sgd");
  resumed.resume(path);
  for (int i = 3; i < 6; ++i) EXPECT_NEAR(resumed.run_step().loss, expected[i], kSameRunTolerance * expected[i]) << i;
  at::globalContext().setDeterministicCuDNN(false);
}

TEST(CudaTraining, GpuCheckpointResumesOnTheCpu) {
  SKIP_WITHOUT_GPU();
  testing::TempDir dir;
  Trainer gpu = make(dir, 4, kGpu);
  gpu.run_step();
  gpu.run_step();
  const std::string path = gpu.save_checkpoint(dir.file("ckpt"));
  Trainer cpu = make(dir, 4, c10::Device(c10::kCPU));
  cpu.resume(path);
  EXPECT_EQ(cpu.state().iteration, 2);
  for (const auto& p : cpu.model()->parameters()) ASSERT_TRUE(p.device().is_cpu());
  const StepResult step = cpu.run_step();
  EXPECT_TRUE(std::isfinite(step.loss));
  EXPECT_FALSE(step.skipped);
}

TEST(CudaTraining, Fp16WithTheGradScalerAndBf16Learn) {
  SKIP_WITHOUT_GPU();
  for (const std::string amp : {"fp16", "bf16"}) {
    testing::TempDir dir;
    Trainer trainer = make(dir, 30, kGpu, amp);
    std::vector<double> losses;
    for (int i = 0; i < 30; ++i) {
      const StepResult step = trainer.run_step();
      if (!step.skipped) losses.push_back(step.loss);
    }
    // fp16: the scale starts at 2^16 and halves at each overflow until the
    // gradients fit (6 skipped steps on an H200); bf16 needs no scaler.
    ASSERT_GE(losses.size(), amp == "fp16" ? 20u : 30u) << amp << ": too many skipped steps";
    const auto mean = [](auto first, auto last) {
      return std::accumulate(first, last, 0.0) / std::distance(first, last);
    };
    EXPECT_LT(mean(losses.end() - 5, losses.end()), 0.8 * mean(losses.begin(), losses.begin() + 5)) << amp;
    if (amp == "fp16") {
      EXPECT_GT(trainer.scaler().current_scale(), 0.0);
      EXPECT_TRUE(std::isfinite(trainer.scaler().current_scale()));
    }
  }
}

TEST(CudaTraining, PinnedBatchesForTheGpu) {
  SKIP_WITHOUT_GPU();
  auto loader = testing::memory_loader(testing::memory_voc(2, 40), 2, 32, true, 0, /*pin_memory=*/true);
  loader->start_epoch(0);
  const auto batch = loader->next();
  ASSERT_TRUE(batch.has_value());
  EXPECT_TRUE(batch->images.is_pinned());
  EXPECT_TRUE(batch->labels.is_pinned());
}

std::shared_ptr<core::ProcessGroup> one_rank_group(const std::string& backend, int cuda_device) {
  core::Rendezvous r;
  r.master_port = testing::free_port();
  r.source = "test";
  core::ProcessGroupOptions options;
  options.backend = backend;
  options.cuda_device = cuda_device;
  options.timeout = std::chrono::seconds(60);
  return core::ProcessGroup::create(r, options);
}

TEST(CudaDistributed, NcclOnACpuRunIsAConfigError) {
  try {
    one_rank_group("nccl", -1);
    ADD_FAILURE() << "nccl without a GPU was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("runtime.dist_backend: nccl"), std::string::npos) << e.what();
  }
}

TEST(CudaDistributed, NcclCollectivesAtOneRank) {
  SKIP_WITHOUT_GPU();
  const auto group = one_rank_group("auto", 0);
  EXPECT_EQ(group->backend(), "nccl");
  // GPU tensors, and CPU tensors staged through the GPU and copied back.
  for (const auto& device : {kGpu, c10::Device(c10::kCPU)}) {
    const auto values = torch::arange(6, torch::TensorOptions().dtype(torch::kDouble).device(device));
    auto sum = values.clone();
    group->all_reduce(sum);
    EXPECT_TRUE(torch::equal(sum, values)) << device;
    EXPECT_EQ(sum.device(), device);
    std::vector<torch::Tensor> tensors{values.clone().to(torch::kFloat), torch::ones({2, 3}, device)};
    group->broadcast(tensors, 0);
    EXPECT_TRUE(torch::equal(tensors[0], values.to(torch::kFloat))) << device;
    const auto gathered = group->all_gather(values);
    ASSERT_EQ(gathered.size(), 1u);
    EXPECT_TRUE(torch::equal(gathered[0], values)) << device;
    EXPECT_EQ(gathered[0].device(), device);
  }
  group->barrier();
}

TEST(CudaDistributed, SyncBnOverNcclEqualsBatchNorm) {
  SKIP_WITHOUT_GPU();
  const auto group = one_rank_group("nccl", 0);
  torch::manual_seed(3);
  models::Norm2d ours = models::make_norm(5, 1e-3, 0.3);
  ours->set_mode(models::NormMode::kSync);
  ours->set_process_group(group);
  torch::nn::BatchNorm2d theirs(torch::nn::BatchNorm2dOptions(5).eps(1e-3).momentum(0.3));
  ours->to(kGpu);
  theirs->to(kGpu);
  const auto x = (torch::randn({3, 5, 7, 6}) * 3 + 2).to(kGpu);
  auto xa = x.clone().requires_grad_(true), xb = x.clone().requires_grad_(true);
  const auto ya = ours->forward(xa), yb = theirs->forward(xb);
  const auto weights = torch::linspace(-1, 2, ya.numel(), ya.options()).view(ya.sizes());
  (ya * weights).sum().backward();
  (yb * weights).sum().backward();
  const auto close = [](const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>() <= 1e-5 * std::max(1.0, b.abs().max().item<double>());
  };
  EXPECT_TRUE(close(ya, yb));
  EXPECT_TRUE(close(xa.grad(), xb.grad()));
  EXPECT_TRUE(close(ours->weight.grad(), theirs->weight.grad()));
  EXPECT_TRUE(close(ours->running_mean, theirs->running_mean));
  EXPECT_TRUE(close(ours->running_var, theirs->running_var));
}

}  // namespace
}  // namespace deeplab::train
