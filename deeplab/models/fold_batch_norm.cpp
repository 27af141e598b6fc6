#include "deeplab/models/fold_batch_norm.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/norm.h"

namespace deeplab::models {
namespace {

namespace nn = torch::nn;
using ModulePtr = std::shared_ptr<nn::Module>;

// A conv without bias has its "bias" slot registered with an undefined
// tensor; giving it one means writing that slot.  Module keeps the slots
// protected: a pointer to the inherited member, formed inside a derived
// class, reaches them on any Module.
struct ParameterSlots : nn::Module {
  static torch::OrderedDict<std::string, torch::Tensor>& of(nn::Module& module) {
    return module.*(&ParameterSlots::parameters_);
  }
};

// The convolution a norm registered under `name` follows, by the naming
// rules of the header; empty when none of them applies.
std::string partner_name(const std::string& name) {
  // Children numbered in running order: a Sequential's, and layers a module
  // adopted from one (heads' adopt_children).
  if (!name.empty() &&
      std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    const long index = std::stol(name);
    return index > 0 ? std::to_string(index - 1) : std::string();
  }
  if (name.size() > 2 && name.compare(0, 2, "bn") == 0 && std::isdigit(static_cast<unsigned char>(name[2]))) {
    return "conv" + name.substr(2);
  }
  if (name.size() > 3 && name.compare(0, 3, "bn_") == 0) return name.substr(3);
  if (name.size() > 3 && name.compare(name.size() - 3, 3, "_bn") == 0) return name.substr(0, name.size() - 3);
  return {};
}

// A conv, or a Sequential standing for its last child (recursively).
nn::Conv2dImpl* as_conv(const ModulePtr& module) {
  if (!module) return nullptr;
  if (auto* conv = dynamic_cast<nn::Conv2dImpl*>(module.get())) return conv;
  if (auto* seq = dynamic_cast<nn::SequentialImpl*>(module.get()); seq && !seq->is_empty()) {
    return as_conv(seq->ptr(seq->size() - 1));
  }
  return nullptr;
}

// The conv children[index] (a norm) follows, or null.
nn::Conv2dImpl* preceding_conv(const std::vector<std::pair<std::string, ModulePtr>>& children, size_t index) {
  const std::string wanted = partner_name(children[index].first);
  if (wanted.empty()) return nullptr;
  for (const auto& [name, child] : children) {
    if (name == wanted) return as_conv(child);
  }
  return nullptr;
}

void fold_into(nn::Conv2dImpl& conv, Norm2dImpl& norm) {
  torch::NoGradGuard no_grad;
  // Double precision for the arithmetic, so the folded weights are the
  // rounding of the exact product.
  const auto f64 = torch::kFloat64;
  const torch::Tensor mean = norm.running_mean.to(f64), var = norm.running_var.to(f64);
  const torch::Tensor gamma = norm.weight.defined() ? norm.weight.to(f64) : torch::ones_like(mean);
  const torch::Tensor beta = norm.bias.defined() ? norm.bias.to(f64) : torch::zeros_like(mean);
  const torch::Tensor scale = gamma / torch::sqrt(var + norm.options.eps());
  const torch::Tensor old_bias = conv.bias.defined() ? conv.bias.to(f64) : torch::zeros_like(mean);

  const auto dtype = conv.weight.scalar_type();
  conv.weight.copy_((conv.weight.to(f64) * scale.view({-1, 1, 1, 1})).to(dtype));
  const torch::Tensor new_bias = ((old_bias - mean) * scale + beta).to(dtype);
  if (conv.bias.defined()) {
    conv.bias.copy_(new_bias);
  } else {
    conv.bias = new_bias.to(conv.weight.device()).set_requires_grad(false);
    auto& slots = ParameterSlots::of(conv);
    if (slots.contains("bias")) {
      slots["bias"] = conv.bias;
    } else {
      slots.insert("bias", conv.bias);
    }
    conv.options.bias(true);
  }
  norm.mark_folded();
}

void fold_children(nn::Module& parent, const std::string& prefix, std::set<const nn::Conv2dImpl*>& claimed,
                   FoldReport& report) {
  std::vector<std::pair<std::string, ModulePtr>> children;
  for (const auto& item : parent.named_children()) children.emplace_back(item.key(), item.value());
  for (size_t i = 0; i < children.size(); ++i) {
    const auto& [name, child] = children[i];
    const std::string qualified = prefix.empty() ? name : prefix + "." + name;
    auto* norm = dynamic_cast<Norm2dImpl*>(child.get());
    if (!norm) {
      fold_children(*child, qualified, claimed, report);
      continue;
    }
    if (norm->is_folded()) continue;
    nn::Conv2dImpl* conv = preceding_conv(children, i);
    const bool fits = conv && !claimed.count(conv) && conv->options.out_channels() == norm->options.num_features() &&
                      norm->options.track_running_stats();
    if (!fits) {
      report.unfolded.push_back(qualified);
      continue;
    }
    fold_into(*conv, *norm);
    claimed.insert(conv);
    ++report.folded;
  }
}

}  // namespace

FoldReport fold_batch_norms(nn::Module& model) {
  if (model.is_training()) {
    throw Error(
        "fold_batch_norms: the model is in training mode; folding uses the running statistics (call eval() first)");
  }
  FoldReport report;
  std::set<const nn::Conv2dImpl*> claimed;
  fold_children(model, "", claimed, report);
  return report;
}

}  // namespace deeplab::models
