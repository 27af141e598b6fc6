#include "deeplab/train/grad_reducer.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/torch.h>

#include <chrono>

#include "deeplab/core/error.h"
#include "deeplab/core/process_group.h"

namespace deeplab::train {

namespace {

// Runs after a parameter's gradient has been accumulated into .grad.
class ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(std::function<void()> on_ready) : on_ready_(std::move(on_ready)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    on_ready_();
    return outputs;
  }

 private:
  std::function<void()> on_ready_;
};

}  // namespace

GradReducer::GradReducer(std::vector<at::Tensor> parameters, std::shared_ptr<core::ProcessGroup> group,
                         GradReducerOptions options)
    : params_(std::move(parameters)), group_(std::move(group)), options_(options) {
  if (!group_) throw Error("GradReducer: no process group");
  if (options_.bucket_mb <= 0) throw ConfigError("runtime.dist_bucket_mb must be positive");
  build_buckets(options_.bucket_mb);
  install_hooks();
}

GradReducer::~GradReducer() = default;

// Same parameters in the same order on every rank -> the same buckets.
void GradReducer::build_buckets(double bucket_mb) {
  const auto cap = static_cast<int64_t>(bucket_mb * 1024 * 1024);
  bucket_of_.assign(params_.size(), 0);
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const auto& p = params_[k];
    const bool new_bucket = buckets_.empty() || bytes >= cap ||
                            params_[buckets_.back().params.front()].options().dtype() != p.options().dtype() ||
                            params_[buckets_.back().params.front()].device() != p.device();
    if (new_bucket) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().params.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    bytes += p.numel() * static_cast<int64_t>(p.element_size());
  }
  for (auto& bucket : buckets_) {
    int64_t numel = 0;
    for (size_t k : bucket.params) numel += params_[k].numel();
    bucket.flat =
        torch::zeros({numel + static_cast<int64_t>(bucket.params.size())}, params_[bucket.params.front()].options());
  }
}

void GradReducer::install_hooks() {
  for (size_t k = 0; k < params_.size(); ++k) {
    auto accumulator = torch::autograd::impl::grad_accumulator(params_[k]);
    if (!accumulator) throw Error("GradReducer: parameter " + std::to_string(k) + " does not require a gradient");
    accumulator->add_post_hook(std::make_unique<ReadyHook>([this, k] { mark_ready(k); }));
    accumulators_.push_back(std::move(accumulator));
  }
}

void GradReducer::prepare_for_backward() {
  armed_ = true;
  next_launch_ = 0;
  stats_ = ReduceStats{};
  stats_.buckets = static_cast<int>(buckets_.size());
  for (auto& bucket : buckets_) bucket.ready = 0;
}

void GradReducer::mark_ready(size_t param) {
  if (!armed_) return;
  ++buckets_[bucket_of_[param]].ready;
  if (options_.overlap) launch_ready_buckets();
}

void GradReducer::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready >= buckets_[next_launch_].params.size()) {
    launch(buckets_[next_launch_++]);
    ++stats_.launched_in_backward;
  }
}

void GradReducer::launch(Bucket& bucket) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  const auto flags = bucket.flat.narrow(0, bucket.flat.numel() - static_cast<int64_t>(bucket.params.size()),
                                        static_cast<int64_t>(bucket.params.size()));
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    const auto& p = params_[bucket.params[i]];
    auto slice = bucket.flat.narrow(0, offset, p.numel());
    const auto& grad = p.grad();
    if (grad.defined()) {
      slice.copy_(grad.reshape({-1}));
    } else {
      slice.zero_();
    }
    flags[static_cast<int64_t>(i)].fill_(grad.defined() ? 1 : 0);
    offset += p.numel();
  }
  pending_.push_back(group_->all_reduce_async(bucket.flat));
}

void GradReducer::write_back(Bucket& bucket) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  const int64_t n = static_cast<int64_t>(bucket.params.size());
  const auto flags = bucket.flat.narrow(0, bucket.flat.numel() - n, n).to(torch::kDouble).cpu();
  const double* had_grad = flags.data_ptr<double>();  // how many ranks had a gradient
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    auto& p = params_[bucket.params[i]];
    const auto sum = bucket.flat.narrow(0, offset, p.numel()).view(p.sizes());
    offset += p.numel();
    if (had_grad[i] == 0) continue;  // no rank had one
    if (p.grad().defined()) {
      p.mutable_grad().copy_(sum);
    } else {
      p.mutable_grad() = sum.clone();
    }
  }
}

void GradReducer::finish() {
  if (!armed_) throw Error("GradReducer::finish without prepare_for_backward");
  armed_ = false;
  const auto start = std::chrono::steady_clock::now();
  while (next_launch_ < buckets_.size()) launch(buckets_[next_launch_++]);
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& work : pending) work.wait();
  stats_.wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& bucket : buckets_) write_back(bucket);
}

}  // namespace deeplab::train
