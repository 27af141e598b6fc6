#include "deeplab/models/layers/sync_batch_norm.h"

#include <torch/torch.h>

#include "deeplab/core/process_group.h"

namespace deeplab::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

const std::vector<int64_t> kReduceDims{0, 2, 3};

// Per channel (count, mean, M2) of this rank, then combined over ranks:
// mean = Σ n_r m_r / N, M2 = Σ M2_r + Σ n_r (m_r - mean)^2.
struct GlobalMoments {
  at::Tensor mean, m2;  // float64 [C]
  double count = 0;
};

GlobalMoments global_moments(const at::Tensor& x, core::ProcessGroup* group) {
  const int64_t channels = x.size(1);
  const double local_count = static_cast<double>(x.numel() / std::max<int64_t>(channels, 1));
  auto [var, mean] = at::var_mean(x, kReduceDims, /*unbiased=*/false);
  const auto local = torch::cat({torch::full({1}, local_count, x.options().dtype(torch::kDouble)),
                                 mean.to(torch::kDouble), (var.to(torch::kDouble) * local_count)});
  // [ranks, 1 + 2C]: count, mean, M2 of each rank.
  const auto all = group != nullptr ? torch::stack(group->all_gather(local)) : local.unsqueeze(0);
  const auto counts = all.narrow(1, 0, 1), means = all.narrow(1, 1, channels),
             m2s = all.narrow(1, 1 + channels, channels);
  GlobalMoments g;
  g.count = counts.sum().item<double>();
  g.mean = (counts * means).sum(0) / g.count;
  g.m2 = m2s.sum(0) + (counts * (means - g.mean).pow(2)).sum(0);
  return g;
}

at::Tensor per_channel(const at::Tensor& v) { return v.view({1, -1, 1, 1}); }

class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  // `group` travels as an integer: autograd's saved data holds IValues only.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                            const at::Tensor& bias, SyncBatchNormState state, int64_t group_address) {
    auto* group = reinterpret_cast<core::ProcessGroup*>(static_cast<intptr_t>(group_address));
    const auto compute_type = input.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
    const auto x = input.to(compute_type);
    const GlobalMoments g = global_moments(x, group);
    if (g.count <= 1) throw std::runtime_error("SyncBatchNorm: need more than one value per channel in training");
    const auto mean = g.mean.to(compute_type);
    const auto invstd = (g.m2 / g.count + state.eps).rsqrt().to(compute_type);
    if (state.running_mean.defined()) {
      torch::NoGradGuard no_grad;
      state.running_mean.mul_(1 - state.momentum).add_(g.mean.to(state.running_mean.scalar_type()) * state.momentum);
      state.running_var.mul_(1 - state.momentum)
          .add_((g.m2 / (g.count - 1)).to(state.running_var.scalar_type()) * state.momentum);
    }
    auto y = (x - per_channel(mean)) * per_channel(invstd);
    if (weight.defined()) y = y * per_channel(weight.to(compute_type)) + per_channel(bias.to(compute_type));
    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["group"] = group_address;
    ctx->saved_data["global_count"] = g.count;
    ctx->saved_data["input_type"] = static_cast<int64_t>(input.scalar_type());
    return y.to(input.scalar_type());
  }

  // dx = w·invstd·(dy − Σdy/N − x̂·Σ(dy·x̂)/N) with both sums over all ranks;
  // dw, db stay local sums (the gradient reducer adds the ranks' up).
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &weight = saved[1], &mean = saved[2], &invstd = saved[3];
    auto* group = reinterpret_cast<core::ProcessGroup*>(static_cast<intptr_t>(ctx->saved_data["group"].toInt()));
    const double count = ctx->saved_data["global_count"].toDouble();  // values per channel, all ranks
    const auto dy = grad_outputs[0].to(x.scalar_type());
    const auto xhat = (x - per_channel(mean)) * per_channel(invstd);
    const auto sum_dy = dy.sum(kReduceDims);
    const auto sum_dy_xhat = (dy * xhat).sum(kReduceDims);
    auto sums = torch::cat({sum_dy, sum_dy_xhat}).to(torch::kDouble);
    if (group != nullptr) group->all_reduce(sums);
    const int64_t c = x.size(1);
    const auto mean_dy = (sums.narrow(0, 0, c) / count).to(x.scalar_type());
    const auto mean_dy_xhat = (sums.narrow(0, c, c) / count).to(x.scalar_type());
    auto scale = invstd;
    if (weight.defined()) scale = scale * weight.to(x.scalar_type());
    auto dx = per_channel(scale) * (dy - per_channel(mean_dy) - xhat * per_channel(mean_dy_xhat));
    dx = dx.to(static_cast<at::ScalarType>(ctx->saved_data["input_type"].toInt()));
    at::Tensor dweight, dbias;
    if (weight.defined()) {
      dweight = sum_dy_xhat.to(weight.scalar_type());
      dbias = sum_dy.to(weight.scalar_type());
    }
    return {dx, dweight, dbias, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor sync_batch_norm(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                           const SyncBatchNormState& state, const std::shared_ptr<core::ProcessGroup>& group) {
  TORCH_CHECK(input.dim() == 4, "sync_batch_norm: expected a 4-D input (N, C, H, W), got ", input.dim(), "-D");
  const auto address = static_cast<int64_t>(reinterpret_cast<intptr_t>(group.get()));
  return SyncBatchNormFunction::apply(input, weight, bias, state, address);
}

}  // namespace deeplab::models
