#include "deeplab/weights/timm_import.h"

#include <map>
#include <optional>

#include "deeplab/core/error.h"

namespace deeplab::weights {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// timm's layer names inside a separable conv and a shortcut -> ours.
const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> names = {
      {"conv_dw", "depthwise"},  {"bn_dw", "bn_depthwise"},     {"conv_pw", "pointwise"},
      {"bn_pw", "bn_pointwise"}, {"shortcut.conv", "shortcut"}, {"shortcut.bn", "shortcut_bn"},
  };
  return names;
}

// "blocks.<i>.<rest>" -> (i, rest); nullopt when the key is not a block's.
std::optional<std::pair<int, std::string>> split_block_key(const std::string& key) {
  if (!starts_with(key, "blocks.")) return std::nullopt;
  const size_t dot = key.find('.', 7);
  if (dot == std::string::npos || dot == 7) return std::nullopt;
  const std::string index = key.substr(7, dot - 7);
  if (index.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::make_pair(std::stoi(index), key.substr(dot + 1));
}

// A block's "stack.conv<k>.<layer>.<tensor>" or "shortcut.<conv|bn>.<tensor>" in our names.
std::optional<std::string> block_part(const std::string& rest) {
  std::string layer_and_tensor = rest, prefix;
  if (starts_with(rest, "stack.conv") && rest.size() > 11 && rest[11] == '.') {
    prefix = "sepconv" + rest.substr(10, 1) + ".";
    layer_and_tensor = rest.substr(12);
  }
  for (const auto& [theirs, ours] : layer_names()) {
    if (starts_with(layer_and_tensor, theirs + ".")) return prefix + ours + layer_and_tensor.substr(theirs.size());
  }
  return std::nullopt;
}

std::optional<std::string> our_name(const std::string& key) {
  static const std::map<std::string, std::string> stem = {{"stem.0.conv.", "backbone.conv1."},
                                                          {"stem.0.bn.", "backbone.bn1."},
                                                          {"stem.1.conv.", "backbone.conv2."},
                                                          {"stem.1.bn.", "backbone.bn2."}};
  for (const auto& [theirs, ours] : stem) {
    if (starts_with(key, theirs)) return ours + key.substr(theirs.size());
  }
  if (const auto block = split_block_key(key)) {
    if (const auto part = block_part(block->second)) {
      return "backbone.block" + std::to_string(block->first + 1) + "." + *part;
    }
  }
  return std::nullopt;
}

}  // namespace

bool is_timm_xception(const StateDict& entries) {
  bool stem = false, blocks = false;
  for (const auto& [key, tensor] : entries) {
    stem = stem || key == "stem.0.conv.weight";
    blocks = blocks || starts_with(key, "blocks.0.stack.");
  }
  return stem && blocks;
}

int timm_xception_depth(const StateDict& entries, const std::string& source) {
  int blocks = 0;
  for (const auto& [key, tensor] : entries) {
    if (const auto block = split_block_key(key)) blocks = std::max(blocks, block->first + 1);
  }
  if (blocks == 21) return 65;
  if (blocks == 23) return 71;
  throw IoError(source + ": holds an aligned Xception with " + std::to_string(blocks) +
                " blocks; expected 21 (xception65) or 23 (xception71)");
}

StateDict timm_xception_to_ours(const StateDict& entries) {
  StateDict out;
  for (const auto& [key, tensor] : entries) {
    if (starts_with(key, "head.")) continue;
    const auto name = our_name(key);
    out.emplace_back(name ? *name : key, tensor);
  }
  return out;
}

LoadReport import_timm_xception(models::DeepLabImpl& model, const StateDict& entries, const std::string& source,
                                const std::string& backbone) {
  if (!is_timm_xception(entries)) {
    throw IoError(source + ": not timm aligned-Xception weights (no stem.0.conv.weight and blocks.0.stack.* keys)");
  }
  const int depth = timm_xception_depth(entries, source);
  if (backbone != "xception" + std::to_string(depth)) {
    throw IoError(source + ": holds timm xception" + std::to_string(depth) + " weights, but the backbone is " +
                  backbone);
  }
  LoadOptions options;
  options.source = source;
  options.strict = false;
  options.complete_prefix = "backbone.";
  options.target = "the configured backbone (" + backbone + " in " + model.options().arch() + ")";
  return load_state_dict(model, timm_xception_to_ours(entries), options);
}

}  // namespace deeplab::weights
