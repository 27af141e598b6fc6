#include "deeplab/weights/state_dict.h"

#include <torch/serialize.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/weights/pth_writer.h"

namespace deeplab::weights {
namespace {

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// At most 20 keys per list: a wrong file can miss hundreds, and the first few
// already show the pattern (e.g. a missing prefix).
void append_list(std::ostringstream& out, const char* title, const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  constexpr size_t kShown = 20;
  out << "\n  " << title << " (" << keys.size() << "):";
  for (size_t i = 0; i < std::min(keys.size(), kShown); ++i) out << "\n    " << keys[i];
  if (keys.size() > kShown) out << "\n    ... and " << keys.size() - kShown << " more";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// A partial load (a pretrained backbone) must still fill its whole part.
void check_complete(const LoadReport& report, const LoadOptions& options) {
  LoadReport faults = report;
  faults.missing.clear();
  for (const auto& key : report.missing) {
    if (starts_with(key, options.complete_prefix)) faults.missing.push_back(key);
  }
  if (!faults.missing.empty() || !faults.unexpected.empty() || !faults.mismatched.empty()) {
    throw IoError(options.source + ": does not fit " + options.target + ":\n" + faults.summary());
  }
}

}  // namespace

std::string LoadReport::summary() const {
  std::ostringstream out;
  out << loaded.size() << " tensors loaded, " << missing.size() << " missing, " << unexpected.size() << " unexpected, "
      << mismatched.size() << " shape mismatches";
  append_list(out, "missing keys", missing);
  append_list(out, "unexpected keys", unexpected);
  append_list(out, "shape mismatches (source vs module)", mismatched);
  return out.str();
}

StateDict module_state_dict(const torch::nn::Module& module) {
  // Module by module, parameters before buffers: the order Python's
  // state_dict() uses, so saved files list keys the way torchvision's do.
  StateDict out;
  const auto own = [&out](const torch::nn::Module& m, const std::string& prefix) {
    for (const auto& p : m.named_parameters(/*recurse=*/false)) out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : m.named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  };
  // The root itself need not live in a shared_ptr, so it is not taken from
  // named_modules(include_self=true).
  own(module, "");
  for (const auto& item : module.named_modules("", /*include_self=*/false)) own(*item.value(), item.key() + ".");
  return out;
}

StateDict rename_keys(const StateDict& entries, const std::vector<PrefixRule>& rules) {
  StateDict out;
  out.reserve(entries.size());
  for (const auto& [key, tensor] : entries) {
    std::string name = key;
    for (const auto& rule : rules) {
      if (starts_with(key, rule.from)) {
        name = rule.to + key.substr(rule.from.size());
        break;
      }
    }
    out.emplace_back(std::move(name), tensor);
  }
  return out;
}

LoadReport load_state_dict(torch::nn::Module& module, const StateDict& entries, const LoadOptions& options) {
  std::map<std::string, torch::Tensor> source;
  std::vector<std::string> source_order;
  for (auto& [key, tensor] : rename_keys(entries, options.rename)) {
    bool ignored = false;
    for (const auto& prefix : options.ignore) ignored = ignored || starts_with(key, prefix);
    if (ignored) continue;
    if (source.emplace(key, tensor).second) source_order.push_back(key);
  }

  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (module tensor, source tensor)
  std::map<std::string, bool> module_keys;
  for (const auto& [key, target] : module_state_dict(module)) {
    module_keys[key] = true;
    auto it = source.find(key);
    if (it == source.end()) {
      report.missing.push_back(key);
    } else if (it->second.sizes() != target.sizes()) {
      report.mismatched.push_back(key + ": source " + shape_string(it->second) + " vs module " + shape_string(target));
    } else {
      report.loaded.push_back(key);
      copies.emplace_back(target, it->second);
    }
  }
  for (const auto& key : source_order) {
    if (!module_keys.count(key)) report.unexpected.push_back(key);
  }
  if (options.strict && !report.ok()) {
    throw IoError(options.source + ": does not match " + options.target + ": " + report.summary());
  }
  if (!options.strict && !options.complete_prefix.empty()) check_complete(report, options);
  torch::NoGradGuard no_grad;
  for (auto& [target, tensor] : copies) target.copy_(tensor);
  return report;
}

LoadReport load_state_dict_file(torch::nn::Module& module, const std::string& path, LoadOptions options) {
  options.source = path;
  return load_state_dict(module, read_state_dict(path), options);
}

void save_state_dict(const StateDict& entries, const std::string& path) { write_pth(entries, path); }

void save_module_state_dict(const torch::nn::Module& module, const std::string& path) {
  save_state_dict(module_state_dict(module), path);
}

}  // namespace deeplab::weights
