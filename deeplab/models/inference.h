#pragma once
// How a model runs for inference (`eval.fold_bn`, `eval.channels_last`,
// `eval.amp`; the `--fold-bn`, `--channels-last`, `--amp` flags of eval,
// predict and bench): BN folded into the convolutions (fold_batch_norm.h),
// weights and inputs in channels-last layout (oneDNN's native layout: no
// reorder around every convolution), and bf16 autocast on CPUs that have it.
// Folding and channels-last keep the logits within 1e-5 relative of the
// plain fp32 model; bf16 does not, and is opt-in with its cost measured
// (docs/performance.md).

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <string>

#include "deeplab/models/fold_batch_norm.h"
#include "deeplab/models/inference_options.h"
#include "deeplab/models/outputs.h"

namespace torch::nn {
class Module;
}

namespace deeplab::models {

class DeepLabImpl;

/// Stores every 4-D parameter and buffer of `module` channels-last.
void to_channels_last(torch::nn::Module& module);

/// Switches `model` to eval mode and applies the layout changes of
/// `options` (folding is in place: the model cannot train afterwards).
FoldReport prepare_for_inference(DeepLabImpl& model, const InferenceOptions& options);

/// forward_outputs (inference outputs) of images [N, 3, H, W] under
/// `options`: the input in the model's layout, the pass under autocast, every
/// output back as a contiguous float32 tensor.
ModelOutputs infer_outputs(DeepLabImpl& model, const at::Tensor& images, const InferenceOptions& options);

/// The same around any forward (an exported TorchScript model, say).
ModelOutputs infer_outputs(const std::function<ModelOutputs(const at::Tensor&)>& forward, const at::Tensor& images,
                           const InferenceOptions& options);

}  // namespace deeplab::models
