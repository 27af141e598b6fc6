#pragma once
// The dense CRF beside the network: worker threads refine one image each
// while the caller runs the next image's forward, so `deeplab eval` and
// `predict` with the CRF keep every core busy even when photos differ in size
// and come one to a batch.  Results come back in the order they were asked for.

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "deeplab/data/loader.h"
#include "deeplab/data/normalization.h"
#include "deeplab/postprocess/dense_crf_options.h"

namespace deeplab::inference {

/// One batch's CRFs in flight; get() gives the refined probabilities
/// [N, C, H, W], rethrowing a CRF's error.
class PendingCrf {
 public:
  at::Tensor get();

 private:
  friend class CrfPool;
  std::vector<std::future<at::Tensor>> images_;
};

class CrfPool {
 public:
  /// `threads` workers (at least 1); each runs one image's CRF at a time.
  CrfPool(postprocess::DenseCrfOptions options, data::Normalization normalization, int threads);
  ~CrfPool();
  CrfPool(const CrfPool&) = delete;
  CrfPool& operator=(const CrfPool&) = delete;

  /// Queues the CRF of every image of `batch` against `probabilities`
  /// (float [N, C, H, W] on the CPU, at the batch's size).
  PendingCrf refine(const data::Batch& batch, const at::Tensor& probabilities);
  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  void work();

  postprocess::DenseCrfOptions options_;
  data::Normalization normalization_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<at::Tensor()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace deeplab::inference
