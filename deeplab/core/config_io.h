#pragma once
// Typed binding between config structs and YAML.  Each config struct lists
// its fields once, in `template <class V> void fields(V& v)`:
//
//   v("lr", lr, check::positive());
//   v.section("optimizer", optimizer);
//
// and the same list drives reading (with validation and unknown-key errors
// that name file and line) and writing (the effective config).

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "deeplab/core/config_check.h"
#include "deeplab/core/config_tree.h"

namespace deeplab::core {

/// Reads one mapping node into a struct; throws ConfigError naming the key.
class ConfigReader {
 public:
  ConfigReader(const YAML::Node& node, std::string path, const ConfigTree& tree);

  template <class T>
  void operator()(const char* key, T& value, const Check& check = {}) {
    known_.emplace_back(key);
    const YAML::Node child = node_[key];
    if (!child || child.IsNull()) return;  // absent or `key:` with nothing: keep the default
    read_value(child, full(key), value, check);
  }

  template <class S>
  void section(const char* key, S& sub) {
    known_.emplace_back(key);
    const YAML::Node child = node_[key];
    if (!child || child.IsNull()) return;
    ConfigReader reader(child, full(key), tree_);
    sub.fields(reader);
    reader.reject_unknown_keys();
  }

  /// Throws for any key of the node that no field claimed.
  void reject_unknown_keys() const;

 private:
  std::string full(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  [[noreturn]] void fail(const std::string& path, const std::string& message) const;

  void read_value(const YAML::Node& n, const std::string& path, bool& v, const Check& c) const;
  void read_value(const YAML::Node& n, const std::string& path, int& v, const Check& c) const;
  void read_value(const YAML::Node& n, const std::string& path, int64_t& v, const Check& c) const;
  void read_value(const YAML::Node& n, const std::string& path, double& v, const Check& c) const;
  void read_value(const YAML::Node& n, const std::string& path, std::string& v, const Check& c) const;

  template <class T>
  void read_value(const YAML::Node& n, const std::string& path, std::vector<T>& v, const Check& c) const {
    if (!n.IsSequence()) fail(path, "expected a list, e.g. [1, 2], got " + describe_node(n));
    if (c.length && n.size() != *c.length) {
      fail(path, "expected a list of " + std::to_string(*c.length) + " values, got " + std::to_string(n.size()));
    }
    if (c.min_length && n.size() < *c.min_length) fail(path, "expected a non-empty list");
    std::vector<T> out(n.size());
    for (size_t i = 0; i < n.size(); ++i) read_value(n[i], path + "[" + std::to_string(i) + "]", out[i], c);
    v = std::move(out);
  }

  static std::string describe_node(const YAML::Node& n);

  YAML::Node node_;
  std::string path_;
  const ConfigTree& tree_;
  std::vector<std::string> known_;
};

/// One section of a config file (with its `_base_` files), validated, e.g.
/// the `model:` section as a ModelConfig: for code and tests below the
/// experiment layer, which never see the whole config.
template <class S>
S load_config_section(const std::string& path, const char* key) {
  const ConfigTree tree = load_config_tree(path);
  S section;
  ConfigReader reader(tree.root, "", tree);
  reader.section(key, section);
  return section;
}

/// Writes a struct's fields into a YAML mapping (the effective config).
class ConfigWriter {
 public:
  YAML::Node node{YAML::NodeType::Map};

  template <class T>
  void operator()(const char* key, const T& value, const Check& = {}) {
    node[key] = encode(value);
  }

  template <class S>
  void section(const char* key, const S& sub) {
    ConfigWriter writer;
    const_cast<S&>(sub).fields(writer);  // fields() is shared with the reader; the writer only reads
    node[key] = writer.node;
  }

 private:
  static YAML::Node encode(bool v) { return YAML::Node(v); }
  static YAML::Node encode(int v) { return YAML::Node(v); }
  static YAML::Node encode(int64_t v) { return YAML::Node(v); }
  static YAML::Node encode(double v);
  static YAML::Node encode(const std::string& v) { return YAML::Node(v); }
  template <class T>
  static YAML::Node encode(const std::vector<T>& values) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& v : values) seq.push_back(encode(v));
    seq.SetStyle(YAML::EmitterStyle::Flow);
    return seq;
  }
};

/// Shortest decimal text that reads back as exactly `v`.
std::string format_double(double v);

}  // namespace deeplab::core
