#pragma once
// Batch normalisation whose statistics cover the whole global batch of a
// multi-process run: each rank's (count, mean, M2) per channel are gathered
// and combined (Chan's parallel variance: exact, no sum-of-squares
// cancellation), and backward all-reduces the two per-channel sums the input
// gradient needs.  Plain tensor ops only, because ATen's batch_norm_stats
// family has no CPU kernel in LibTorch 1.13.  Without a process group it runs
// the same path over the local batch, equal to BatchNorm2d.

#include <ATen/core/Tensor.h>

#include <memory>

namespace deeplab::core {
class ProcessGroup;
}

namespace deeplab::models {

/// What a training-mode SyncBN call updates besides its output.
struct SyncBatchNormState {
  at::Tensor running_mean, running_var;  // updated in place (undefined: not tracked)
  double momentum = 0.1;                 // weight of this batch in the running statistics
  double eps = 1e-5;
};

/// Training-mode batch norm of `input` [N, C, H, W] with statistics over all
/// ranks of `group` (null: this process only).  `weight`/`bias` may be undefined.
at::Tensor sync_batch_norm(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                           const SyncBatchNormState& state, const std::shared_ptr<core::ProcessGroup>& group);

}  // namespace deeplab::models
