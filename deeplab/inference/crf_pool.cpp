#include "deeplab/inference/crf_pool.h"

#include <torch/torch.h>

#include "deeplab/data/normalization.h"
#include "deeplab/postprocess/dense_crf.h"

namespace deeplab::inference {

at::Tensor PendingCrf::get() {
  std::vector<at::Tensor> refined;
  for (auto& image : images_) refined.push_back(image.get());
  images_.clear();
  return torch::stack(refined);
}

CrfPool::CrfPool(postprocess::DenseCrfOptions options, data::Normalization normalization, int threads)
    : options_(options), normalization_(std::move(normalization)) {
  for (int i = 0; i < std::max(1, threads); ++i) workers_.emplace_back([this] { work(); });
}

CrfPool::~CrfPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void CrfPool::work() {
  while (true) {
    std::packaged_task<at::Tensor()> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to do
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();  // an exception lands in the task's future
  }
}

PendingCrf CrfPool::refine(const data::Batch& batch, const at::Tensor& probabilities) {
  PendingCrf pending;
  for (int64_t i = 0; i < probabilities.size(0); ++i) {
    // The task owns what it reads: the caller's batch moves on.
    const at::Tensor image = batch.images[i].contiguous(), probs = probabilities[i].contiguous();
    std::packaged_task<at::Tensor()> task([this, image, probs] {
      const cv::Mat rgb = data::to_rgb8(image, normalization_);
      const at::Tensor pixels = at::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, at::kByte);
      return postprocess::dense_crf(pixels, probs, options_);
    });
    pending.images_.push_back(task.get_future());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
  }
  return pending;
}

}  // namespace deeplab::inference
