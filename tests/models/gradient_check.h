#pragma once
// A finite-difference check of autograd for float64 modules in training
// mode: what catches a backward kernel that is wrong for some strides
// (LibTorch 1.13's batch norm on channels-last-strided sequences).

#include <torch/torch.h>

#include <algorithm>
#include <functional>

namespace deeplab::testing {

/// The largest |autograd - central difference| of d(sum(f(x) * weights))/dx
/// over `samples` random entries of x (float64), relative to the largest
/// autograd entry checked; `weights` are fixed random numbers of f's shape.
inline double finite_difference_error(const std::function<torch::Tensor(const torch::Tensor&)>& f, torch::Tensor x,
                                      int samples = 12, double step = 1e-6) {
  x = x.detach().clone().requires_grad_(true);
  const torch::Tensor out = f(x);
  const torch::Tensor weights = torch::randn(out.sizes(), out.options());
  (out * weights).sum().backward();
  const torch::Tensor analytic = x.grad().flatten();
  const torch::Tensor flat = x.detach().flatten();
  double worst = 0, scale = 1e-12;
  torch::NoGradGuard no_grad;
  for (int s = 0; s < samples; ++s) {
    const int64_t i = torch::randint(flat.numel(), {1}).item<int64_t>();
    const auto value_at = [&](double delta) {
      torch::Tensor shifted = flat.clone();
      shifted[i] += delta;
      return (f(shifted.view(x.sizes())) * weights).sum().item<double>();
    };
    const double numeric = (value_at(step) - value_at(-step)) / (2 * step);
    worst = std::max(worst, std::abs(numeric - analytic[i].item<double>()));
    scale = std::max(scale, std::abs(analytic[i].item<double>()));
  }
  return worst / scale;
}

}  // namespace deeplab::testing
