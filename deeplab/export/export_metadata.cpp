#include "deeplab/export/export_metadata.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "deeplab/core/error.h"

namespace deeplab::exporting {
namespace {

// Bumped when a field changes meaning; readers reject newer files.
constexpr int kFormatVersion = 1;

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;  // UTF-8 passes through: JSON text is UTF-8
    }
  }
  return out + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) throw Error("export metadata: non-finite number " + std::to_string(v) + " cannot be stored");
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

template <class T, class F>
std::string array(const std::vector<T>& items, F format) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + format(items[i]);
  return out + "]";
}

// root[key] as a T; `fallback` when absent; IoError naming the key when it is not a T.
template <class T>
T scalar(const YAML::Node& root, const char* key, const std::string& source, const T& fallback) {
  const YAML::Node node = root[key];
  if (!node) return fallback;
  if (!node.IsScalar()) throw IoError(source + ": metadata field '" + key + "' is not a single value");
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    throw IoError(source + ": metadata field '" + key + "' has the wrong type ('" + node.Scalar() + "')");
  }
}

template <class T>
std::vector<T> read_list(const YAML::Node& root, const char* key, const std::string& source) {
  const YAML::Node node = root[key];
  if (!node) return {};
  if (!node.IsSequence()) throw IoError(source + ": metadata field '" + key + "' is not a list");
  try {
    return node.as<std::vector<T>>();
  } catch (const YAML::Exception&) {
    throw IoError(source + ": metadata field '" + key + "' has an entry of the wrong type");
  }
}

}  // namespace

std::string metadata_to_json(const ExportMetadata& meta) {
  std::string out = "{\n";
  out += "  \"format\": \"deeplab-torchscript\",\n";
  out += "  \"version\": " + std::to_string(kFormatVersion) + ",\n";
  out += "  \"arch\": " + quote(meta.arch) + ",\n";
  out += "  \"class_names\": " + array(meta.class_names, quote) + ",\n";
  const auto colour = [](const std::vector<int>& rgb) { return array(rgb, [](int v) { return std::to_string(v); }); };
  out += "  \"palette\": " + array(meta.palette, colour) + ",\n";
  out += "  \"mean\": " + array(meta.mean, number) + ",\n";
  out += "  \"std\": " + array(meta.std, number) + ",\n";
  out += "  \"input_size\": " + array(meta.input_size, [](int64_t v) { return std::to_string(v); }) + ",\n";
  out += "  \"extra\": {";
  size_t i = 0;
  for (const auto& [k, v] : meta.extra) out += (i++ ? ", " : "") + quote(k) + ": " + quote(v);
  return out + "}\n}\n";
}

ExportMetadata metadata_from_json(const std::string& json, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(json);  // JSON is a subset of the YAML 1.2 that yaml-cpp reads
  } catch (const YAML::Exception& e) {
    throw IoError(source + ": metadata is not valid JSON: " + e.what());
  }
  if (!root.IsMap() || scalar<std::string>(root, "format", source, "") != "deeplab-torchscript") {
    throw IoError(source + ": metadata is not a deeplab-torchscript description");
  }
  const int version = scalar<int>(root, "version", source, -1);
  if (version < 0) throw IoError(source + ": metadata has no 'version'");
  if (version > kFormatVersion) {
    throw IoError(source + ": metadata version " + std::to_string(version) + " is newer than this build understands (" +
                  std::to_string(kFormatVersion) + ")");
  }
  ExportMetadata meta;
  meta.arch = scalar<std::string>(root, "arch", source, "");
  meta.class_names = read_list<std::string>(root, "class_names", source);
  meta.palette = read_list<std::vector<int>>(root, "palette", source);  // absent in meta.json files before format 2
  meta.mean = read_list<double>(root, "mean", source);
  meta.std = read_list<double>(root, "std", source);
  meta.input_size = read_list<int64_t>(root, "input_size", source);
  if (const YAML::Node extra = root["extra"]) {
    if (!extra.IsMap()) throw IoError(source + ": metadata field 'extra' is not an object");
    for (const auto& kv : extra) {
      if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
        throw IoError(source + ": metadata field 'extra' holds a value that is not a string");
      }
      meta.extra[kv.first.Scalar()] = kv.second.Scalar();
    }
  }
  return meta;
}

}  // namespace deeplab::exporting
