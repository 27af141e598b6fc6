#pragma once
// Data-parallel gradient all-reduce, overlapped with backward: our small
// version of DDP's reducer (c10d::Reducer's header needs a distributed-
// autograd header this LibTorch does not ship).  Parameters are packed into
// flat buckets of about `bucket_mb`, in reverse registration order (roughly
// the order backward produces their gradients).  A post-hook on each
// parameter's gradient accumulator counts a bucket down; a full bucket is
// all-reduced (SUM) at once while backward goes on — buckets are launched in
// index order on every rank, as collectives must be.  finish() launches what
// backward never reached (parameters without a gradient this step), waits for
// everything and writes the sums back into .grad.  Each bucket carries one
// extra value per parameter, "had a gradient", so a parameter no rank
// touched keeps an undefined gradient on every rank (as in one process).

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "deeplab/core/process_group.h"

namespace torch::autograd {
struct Node;
}

namespace deeplab::train {

struct GradReducerOptions {
  double bucket_mb = 25;  // flat bucket size (runtime.dist_bucket_mb), as DDP's bucket_cap_mb
  bool overlap = true;    // false: every bucket launches in finish() (for measuring the overlap)
};

/// Timing of the last reduced step.
struct ReduceStats {
  int buckets = 0;
  int launched_in_backward = 0;  // buckets whose all-reduce started while backward ran
  double wait_seconds = 0;       // finish(): time blocked after backward (the exposed all-reduce)
};

class GradReducer {
 public:
  GradReducer(std::vector<at::Tensor> parameters, std::shared_ptr<core::ProcessGroup> group,
              GradReducerOptions options = {});
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  /// Call before the backward that completes the step's gradients: its hooks
  /// then launch buckets.  Earlier backwards (accumulation) reduce nothing.
  void prepare_for_backward();
  /// After that backward: launches the remaining buckets, waits, writes the
  /// summed gradients.  Throws DistributedError when a peer failed.
  void finish();
  const ReduceStats& last_stats() const { return stats_; }
  size_t num_buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    at::Tensor flat;             // gradients, then one "had a gradient" flag per parameter
    size_t ready = 0;
  };
  void build_buckets(double bucket_mb);
  void install_hooks();
  void mark_ready(size_t param);
  void launch_ready_buckets();
  void launch(Bucket& bucket);
  void write_back(Bucket& bucket);

  std::vector<at::Tensor> params_;
  std::shared_ptr<core::ProcessGroup> group_;
  GradReducerOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // keep the hooked nodes alive
  std::vector<core::ProcessGroup::Work> pending_;                     // all-reduces in flight
  bool armed_ = false;
  size_t next_launch_ = 0;
  ReduceStats stats_;
};

}  // namespace deeplab::train
