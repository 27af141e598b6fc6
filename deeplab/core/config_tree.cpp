#include "deeplab/core/config_tree.h"

#include <filesystem>
#include <fstream>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

namespace fs = std::filesystem;

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// Drops the origins of `path` and everything below it (a replaced subtree).
void erase_origins_under(std::map<std::string, std::string>& origins, const std::string& path) {
  origins.erase(path);
  const std::string prefix = path + ".";
  for (auto it = origins.lower_bound(prefix); it != origins.end() && it->first.rfind(prefix, 0) == 0;) {
    it = origins.erase(it);
  }
}

void record_origins(const YAML::Node& node, const std::string& prefix, const std::string& file,
                    std::map<std::string, std::string>& origins) {
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    const std::string path = join_path(prefix, kv.first.Scalar());
    origins[path] = file + ":" + std::to_string(kv.first.Mark().line + 1);
    record_origins(kv.second, path, file, origins);
  }
}

void merge_nodes(YAML::Node dst, const YAML::Node& src, const std::string& prefix, const ConfigTree& src_tree,
                 ConfigTree& dst_tree) {
  for (const auto& kv : src) {
    const std::string key = kv.first.Scalar();
    const std::string path = join_path(prefix, key);
    const YAML::Node& cdst = dst;  // const access never inserts a key
    const YAML::Node existing = cdst[key];
    if (kv.second.IsMap() && existing && existing.IsMap()) {
      // A section keeps its first origin; only new keys and leaves move it.
      if (auto it = src_tree.origins.find(path); it != src_tree.origins.end())
        dst_tree.origins.emplace(path, it->second);
      merge_nodes(dst[key], kv.second, path, src_tree, dst_tree);
      continue;
    }
    dst[key] = YAML::Clone(kv.second);
    erase_origins_under(dst_tree.origins, path);
    const std::string below = path + ".";
    for (auto it = src_tree.origins.lower_bound(path); it != src_tree.origins.end(); ++it) {
      if (it->first != path && it->first.rfind(below, 0) != 0) break;
      dst_tree.origins[it->first] = it->second;
    }
  }
}

YAML::Node parse_file(const std::string& path) {
  if (!fs::exists(path)) throw ConfigError("config file '" + path + "' does not exist");
  if (!fs::is_regular_file(path)) throw ConfigError("config file '" + path + "' is not a file (a directory?)");
  try {
    YAML::Node node = YAML::LoadFile(path);
    if (node.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!node.IsMap()) {
      throw ConfigError(path + ":" + std::to_string(node.Mark().line + 1) +
                        ": a config file must be a mapping of sections (model:, data:, train: ...)");
    }
    return node;
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": YAML syntax error: " + e.msg);
  } catch (const YAML::BadFile&) {
    throw ConfigError("config file '" + path + "' cannot be read");
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": YAML error: " + e.msg);
  } catch (const std::ios_base::failure& e) {
    throw ConfigError("config file '" + path + "' cannot be read: " + e.what());
  }
}

std::vector<std::string> base_files(const YAML::Node& node, const std::string& file, const std::string& line) {
  std::vector<std::string> bases;
  const fs::path dir = fs::path(file).parent_path();
  auto resolve = [&](const YAML::Node& entry) {
    if (!entry.IsScalar()) throw ConfigError(line + ": _base_ entries must be file names");
    bases.push_back((dir / entry.Scalar()).lexically_normal().string());
  };
  if (node.IsScalar()) {
    resolve(node);
  } else if (node.IsSequence()) {
    for (const auto& entry : node) resolve(entry);
  } else {
    throw ConfigError(line + ": _base_ must be a file name or a list of file names");
  }
  return bases;
}

ConfigTree load_recursive(const std::string& path, std::vector<std::string>& stack) {
  const std::string canonical = fs::weakly_canonical(path).string();
  for (const auto& open : stack) {
    if (open == canonical) throw ConfigError("config file '" + path + "' includes itself through _base_");
  }
  stack.push_back(canonical);

  YAML::Node node = parse_file(path);
  ConfigTree result;
  if (const YAML::Node bases = node["_base_"]) {
    const std::string line = path + ":" + std::to_string(bases.Mark().line + 1);
    for (const auto& base : base_files(bases, path, line)) {
      if (!fs::exists(base)) throw ConfigError(line + ": _base_ file '" + base + "' does not exist");
      merge_tree(result, load_recursive(base, stack));
    }
    node.remove("_base_");
  }
  ConfigTree own;
  own.root = node;
  record_origins(node, "", path, own.origins);
  merge_tree(result, own);

  stack.pop_back();
  return result;
}

}  // namespace

std::string ConfigTree::origin_of(const std::string& path) const {
  std::string p = path;
  while (true) {
    if (auto it = origins.find(p); it != origins.end()) return it->second;
    const auto dot = p.rfind('.');
    if (dot == std::string::npos) return "<defaults>";
    p.resize(dot);
  }
}

void merge_tree(ConfigTree& dst, const ConfigTree& src) { merge_nodes(dst.root, src.root, "", src, dst); }

ConfigTree load_config_tree(const std::string& path) {
  std::vector<std::string> stack;
  return load_recursive(path, stack);
}

void apply_override(ConfigTree& tree, const std::string& assignment) {
  const auto eq = assignment.find('=');
  const std::string where = "--set " + assignment;
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(where + ": expected KEY=VALUE, e.g. --set train.lr=0.01");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);

  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(text);  // not valid YAML: take it as a plain string
  }

  ConfigTree patch;
  YAML::Node leaf = value;
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot - start));
    if (parts.back().empty()) throw ConfigError(where + ": empty key component in '" + key + "'");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    YAML::Node parent(YAML::NodeType::Map);
    parent[*it] = leaf;
    leaf = parent;
  }
  patch.root = leaf;
  std::string path;
  for (const auto& part : parts) {
    path = join_path(path, part);
    patch.origins[path] = where;
  }
  record_origins(value, key, where, patch.origins);
  for (auto& [p, origin] : patch.origins) origin = where;  // every key it sets points at the flag
  merge_tree(tree, patch);
}

}  // namespace deeplab::core
