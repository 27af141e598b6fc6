#pragma once
// A process group of c10d, PyTorch's own distributed engine: Gloo on CPU,
// NCCL on CUDA (when this LibTorch has it).  This is the one file that knows
// c10d's classes, which change between LibTorch versions (ProcessGroupGloo
// derives from c10d::Backend in 2.x): everything else talks to this wrapper.
// All collectives sum; every rank must issue the same collectives in the same
// order.  Tensors may live on the CPU or this rank's GPU whatever the backend:
// NCCL gets a GPU copy of a CPU tensor (checkpoint RNG states, loss
// agreements), and the result is copied back.  A failed collective (a dead or hung peer) throws DistributedError.

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/core/process_env.h"

namespace deeplab::core {

/// A collective failed: a peer died, hung past the timeout, or the rendezvous failed.
class DistributedError : public Error {
 public:
  using Error::Error;
};

/// How to build a process group.
struct ProcessGroupOptions {
  std::string backend = "auto";  // auto (NCCL for CUDA tensors when available, else Gloo) | gloo | nccl
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  int cuda_device = -1;  // this rank's GPU (auto then picks NCCL); -1: the ranks compute on CPUs
};

/// Backends this build can create ("gloo" always; "nccl" with a CUDA LibTorch built with it).
std::vector<std::string> available_backends();
/// "gloo, nccl 2.28.9" (the NCCL this LibTorch was built with), for `deeplab --version`.
std::string describe_backends();

class ProcessGroup {
 public:
  /// A collective in flight; wait() blocks until done (DistributedError on failure).
  class Work {
   public:
    struct Impl;
    explicit Work(std::shared_ptr<Impl> impl = nullptr) : impl_(std::move(impl)) {}
    void wait();
    bool pending() const { return impl_ != nullptr; }

   private:
    std::shared_ptr<Impl> impl_;
  };

  /// Joins the group `rendezvous` describes (a TCP store at master_addr:
  /// master_port served by rank 0, or by torchrun's agent).
  static std::shared_ptr<ProcessGroup> create(const Rendezvous& rendezvous, const ProcessGroupOptions& options);
  ~ProcessGroup();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  const std::string& backend() const { return backend_; }

  /// Sums `tensor` across ranks in place, asynchronously.
  Work all_reduce_async(at::Tensor tensor);
  /// Sums `tensor` across ranks in place.
  void all_reduce(at::Tensor tensor);
  /// Overwrites `tensors` with root's values, a few large messages at a time.
  void broadcast(const std::vector<at::Tensor>& tensors, int root = 0);
  /// `tensor` of every rank (same shape everywhere), by rank.
  std::vector<at::Tensor> all_gather(const at::Tensor& tensor);
  /// Returns when every rank has called it.
  void barrier();

 private:
  struct Impl;
  ProcessGroup(std::unique_ptr<Impl> impl, int rank, int world_size, std::string backend);
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_size_ = 1;
  std::string backend_;
};

}  // namespace deeplab::core
