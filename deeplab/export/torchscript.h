#pragma once
// TorchScript export of a C++ torch::nn::Module: trace its forward in eval
// mode into a torch::jit::Module that reuses the module's own parameter and
// buffer tensors (names kept: Python's model.state_dict() shows ours), then
// save it with the metadata as an extra file.

#include <ATen/core/ivalue.h>
#include <torch/nn/module.h>

#include <functional>
#include <string>

#include "deeplab/export/export_metadata.h"

namespace deeplab::exporting {

/// The forward to trace: one NCHW tensor in; a tensor, a list of tensors
/// (std::vector<torch::Tensor>) or a c10::Dict<std::string, Tensor> out.
/// Sizes the model derives from its input must go through
/// models::resize_bilinear(x, like, ...) (or the tracer records constants).
using ExportForward = std::function<c10::IValue(const torch::Tensor&)>;

/// Traces `forward(example)` with `module` in eval mode (its mode is restored
/// afterwards) and writes a TorchScript file to `path` (atomically) that
/// Python's torch.jit.load and C++ torch::jit::load run at any input size.
void export_torchscript(torch::nn::Module& module, const ExportForward& forward, const torch::Tensor& example,
                        const ExportMetadata& meta, const std::string& path);

/// The metadata of a file written by export_torchscript, read without
/// loading the model; errors name the file.
ExportMetadata read_export_metadata(const std::string& path);

}  // namespace deeplab::exporting
