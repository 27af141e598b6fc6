#include "deeplab/models/inference.h"

#include <torch/torch.h>

#include "deeplab/core/autocast_scope.h"
#include "deeplab/models/deeplab.h"

namespace deeplab::models {

std::string InferenceOptions::describe() const {
  std::string out = fold_bn ? "folded BN" : "BN";
  out += channels_last ? ", channels-last" : ", NCHW";
  out += amp == "none" ? ", fp32" : ", " + amp + " autocast";
  return out;
}

void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  }
  for (auto& b : module.buffers()) {
    if (b.dim() == 4) b.set_data(b.contiguous(at::MemoryFormat::ChannelsLast));
  }
}

FoldReport prepare_for_inference(DeepLabImpl& model, const InferenceOptions& options) {
  model.eval();
  FoldReport report;
  if (options.fold_bn) report = fold_batch_norms(model);
  if (options.channels_last) to_channels_last(model);
  return report;
}

ModelOutputs infer_outputs(DeepLabImpl& model, const at::Tensor& images, const InferenceOptions& options) {
  return infer_outputs([&model](const at::Tensor& x) { return model.forward_outputs(x, /*training_outputs=*/false); },
                       images, options);
}

ModelOutputs infer_outputs(const std::function<ModelOutputs(const at::Tensor&)>& forward, const at::Tensor& images,
                           const InferenceOptions& options) {
  const at::Tensor input = options.channels_last ? images.contiguous(at::MemoryFormat::ChannelsLast) : images;
  ModelOutputs outputs;
  {
    core::AutocastScope autocast(options.amp, images.device(), "eval.amp");
    outputs = forward(input);
  }
  for (auto& [name, output] : outputs) output.value = output.value.to(torch::kFloat32).contiguous();
  return outputs;
}

}  // namespace deeplab::models
