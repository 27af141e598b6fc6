#pragma once
// The untyped stage of config loading: YAML files with `_base_` inheritance
// and `--set` overrides, merged into one tree that remembers where each key
// came from, so typed validation can point at the exact file and line.

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace deeplab::core {

/// Merged YAML plus the origin ("file:line" or "--set k=v") of every key path.
struct ConfigTree {
  YAML::Node root{YAML::NodeType::Map};
  std::map<std::string, std::string> origins;  // "train.lr" -> "a.yaml:7"

  /// Origin of `path` or of its closest ancestor that has one.
  std::string origin_of(const std::string& path) const;
};

/// Loads `path`, resolving `_base_: [file, ...]` (relative to the including
/// file) recursively; bases merge in order, then the file itself on top.
ConfigTree load_config_tree(const std::string& path);

/// Applies one `dotted.key=value` override; the value is parsed as YAML, so
/// `--set data.crop_size=[321,321]` gives a list.
void apply_override(ConfigTree& tree, const std::string& assignment);

/// Deep merge: maps merge key by key, anything else is replaced (later wins).
void merge_tree(ConfigTree& dst, const ConfigTree& src);

}  // namespace deeplab::core
