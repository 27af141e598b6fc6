#pragma once
// Moving weights between a torch::nn::Module and state dicts by dotted name
// (parameters and buffers, as Python's Module.state_dict() does), and saving
// a module's weights as a file that Python's torch.load reads.

#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "deeplab/weights/pth_reader.h"

namespace deeplab::weights {

/// Renames keys starting with `from` to start with `to` instead; an empty
/// `to` strips the prefix, an empty `from` adds `to` to every key.
struct PrefixRule {
  std::string from;
  std::string to;
};

/// How a state dict maps onto a module.
struct LoadOptions {
  bool strict = true;                 // throw unless every key matches exactly
  std::vector<PrefixRule> rename;     // applied to source keys; the first matching rule wins
  std::vector<std::string> ignore;    // source keys (after renaming) with these prefixes are dropped silently
  std::string source = "state dict";  // names the origin (a file) in messages
  /// Non-strict loads only: every module key starting with this prefix must
  /// be filled and no source key may be unexpected or mis-shaped (pretrained
  /// backbones: "backbone."); the other module keys keep their values.
  std::string complete_prefix;
  /// What the source is loaded into, for messages ("the model", "the xception65 backbone").
  std::string target = "the model";
};

/// What a load matched and what it did not.
struct LoadReport {
  std::vector<std::string> missing;     // module keys with no source tensor (left as they were)
  std::vector<std::string> unexpected;  // source keys (renamed) the module does not have
  std::vector<std::string> mismatched;  // "key: source [a, b] vs module [c, d]"
  std::vector<std::string> loaded;      // module keys that received a tensor

  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  /// One readable paragraph: counts, then every offending key.
  std::string summary() const;
};

/// The module's parameters and buffers by dotted name, in registration order.
StateDict module_state_dict(const torch::nn::Module& module);

/// `entries` with `rules` applied to every key (first matching rule wins).
StateDict rename_keys(const StateDict& entries, const std::vector<PrefixRule>& rules);

/// Copies matching tensors into the module (dtype converted, no autograd).
/// In strict mode (or with `complete_prefix`, by its rule) nothing is copied
/// and an IoError with the summary is thrown unless the report is clean.
LoadReport load_state_dict(torch::nn::Module& module, const StateDict& entries, const LoadOptions& options = {});

/// read_state_dict(path) + load_state_dict, with `path` as the source.
LoadReport load_state_dict_file(torch::nn::Module& module, const std::string& path, LoadOptions options = {});

/// Writes `entries` as torch.save writes a state dict (pth_writer.h):
/// Python's `model.load_state_dict(torch.load(path))` accepts it, also with
/// PyTorch 2.6+'s weights_only default.
void save_state_dict(const StateDict& entries, const std::string& path);

/// save_state_dict(module_state_dict(module), path).
void save_module_state_dict(const torch::nn::Module& module, const std::string& path);

}  // namespace deeplab::weights
