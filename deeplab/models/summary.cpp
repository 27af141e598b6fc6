#include "deeplab/models/summary.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <atomic>
#include <iomanip>
#include <sstream>

namespace deeplab::models {
namespace {

// Convolution MACs observed through ATen's RecordFunction callbacks: the
// start callback sees the weight, the end callback the output.
std::atomic<int64_t> g_conv_macs{0};

struct ConvContext : at::ObserverContext {
  int64_t macs_per_output = 0;
};

std::unique_ptr<at::ObserverContext> on_op_start(const at::RecordFunction& fn) {
  if (std::string(fn.name()) != "aten::convolution") return nullptr;
  const auto inputs = fn.inputs();
  if (inputs.size() < 2 || !inputs[1].isTensor()) return nullptr;
  const auto weight_sizes = inputs[1].toTensor().sizes();  // (out, in / groups, kh, kw)
  auto context = std::make_unique<ConvContext>();
  context->macs_per_output = 1;
  for (size_t d = 1; d < weight_sizes.size(); ++d) context->macs_per_output *= weight_sizes[d];
  return context;
}

void on_op_end(const at::RecordFunction& fn, at::ObserverContext* context) {
  if (!context || fn.outputs().empty() || !fn.outputs()[0].isTensor()) return;
  g_conv_macs += fn.outputs()[0].toTensor().numel() * static_cast<ConvContext*>(context)->macs_per_output;
}

double count_conv_macs(DeepLabImpl& model, int64_t height, int64_t width) {
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  g_conv_macs = 0;
  auto handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(on_op_start, on_op_end).needsInputs(true).needsOutputs(true));
  // On the model's device: a CUDA model cannot take a CPU input.
  model.forward(torch::zeros({1, 3, height, width}, torch::TensorOptions().device(module_device(model))));
  at::removeCallback(handle);
  model.train(was_training);
  return static_cast<double>(g_conv_macs.load());
}

void add_tree_lines(const torch::nn::Module& module, const std::string& name, int level, int depth,
                    std::ostringstream& out) {
  out << std::string(2 * level, ' ') << std::left << std::setw(44 - 2 * level) << name << std::right << std::setw(14)
      << with_thousands(count_parameters(module)) << "\n";
  if (level + 1 >= depth) return;
  for (const auto& child : module.named_children()) {
    add_tree_lines(*child.value(), child.key(), level + 1, depth, out);
  }
}

}  // namespace

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

torch::Device module_device(const torch::nn::Module& module) {
  const auto parameters = module.parameters();
  return parameters.empty() ? torch::Device(torch::kCPU) : parameters.front().device();
}

std::string with_thousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return (value < 0 ? "-" : "") + digits;
}

ModelSummary summarize(DeepLabImpl& model, int64_t height, int64_t width, int depth) {
  ModelSummary s;
  for (const auto& p : model.parameters()) {
    s.parameters += p.numel();
    if (p.requires_grad()) s.trainable += p.numel();
  }
  s.output_stride = model.backbone().spec(model.backbone().out_name()).stride;
  s.height = height;
  s.width = width;
  std::ostringstream tree;
  for (const auto& child : model.named_children()) add_tree_lines(*child.value(), child.key(), 0, depth, tree);
  s.tree = tree.str();
  s.conv_macs = count_conv_macs(model, height, width);
  return s;
}

std::string format_summary(const ModelSummary& s, const std::string& title) {
  std::ostringstream out;
  out << title << "\n"
      << std::left << std::setw(44) << "module" << std::right << std::setw(14) << "parameters\n"
      << s.tree;
  out << "total parameters: " << with_thousands(s.parameters) << " (trainable " << with_thousands(s.trainable) << ")\n";
  out << "output stride: " << s.output_stride << "\n";
  out << std::fixed << std::setprecision(2) << "convolutions at " << s.height << "x" << s.width << ": "
      << s.conv_macs / 1e9 << " GMACs (~" << 2 * s.conv_macs / 1e9 << " GFLOPs)\n";
  return out.str();
}

}  // namespace deeplab::models
