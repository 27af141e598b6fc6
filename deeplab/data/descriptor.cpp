#include "deeplab/data/descriptor.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/resources.h"

namespace deeplab::data {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void bad(const std::string& path, const YAML::Node& node, const std::string& what) {
  const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
  throw ConfigError(path + ":" + std::to_string(line) + ": " + what);
}

Rgb parse_rgb(const std::string& path, const YAML::Node& node) {
  if (!node.IsSequence() || node.size() != 3) bad(path, node, "palette entry must be [r, g, b]");
  Rgb rgb{};
  for (size_t c = 0; c < 3; ++c) {
    const int v = node[c].as<int>();
    if (v < 0 || v > 255) bad(path, node, "palette value " + std::to_string(v) + " outside [0, 255]");
    rgb[c] = static_cast<uint8_t>(v);
  }
  return rgb;
}

void parse_label_map(const std::string& path, const YAML::Node& node, DatasetDescriptor& d) {
  if (!node.IsMap()) bad(path, node, "label_map must map raw values to train ids");
  d.label_map.assign(256, static_cast<uint8_t>(d.ignore_label));  // unmapped -> ignore
  for (const auto& kv : node) {
    const int raw = kv.first.as<int>();
    const int train = kv.second.as<int>();
    if (raw < 0 || raw > 255) bad(path, kv.first, "label_map key " + std::to_string(raw) + " outside [0, 255]");
    if ((train < 0 || train >= d.num_classes()) && train != d.ignore_label) {
      bad(path, kv.second, "label_map value " + std::to_string(train) + " is not a class id or the ignore label");
    }
    d.label_map[static_cast<size_t>(raw)] = static_cast<uint8_t>(train);
  }
  d.has_label_map = true;
}

// `submission: {format: palette | label_ids, palette: voc}`.
void parse_submission(const std::string& path, const YAML::Node& node, DatasetDescriptor& d) {
  d.submission_palette = d.palette;
  d.train_to_raw.assign(256, 0);
  for (int raw = 255; raw >= 0; --raw) {  // the smallest raw id of each train id
    d.train_to_raw[d.label_map[static_cast<size_t>(raw)]] = static_cast<uint8_t>(raw);
  }
  if (!node) return;
  if (!node.IsMap()) bad(path, node, "submission must be a map, e.g. {format: label_ids}");
  if (node["format"]) {
    d.submission_format = node["format"].as<std::string>();
    if (d.submission_format != "palette" && d.submission_format != "label_ids") {
      bad(path, node["format"], "submission.format '" + d.submission_format + "' is not palette or label_ids");
    }
    if (d.submission_format == "label_ids" && !d.has_label_map) {
      bad(path, node["format"], "submission.format label_ids needs a label_map (raw id -> train id)");
    }
  }
  if (node["palette"]) {
    if (node["palette"].as<std::string>() != "voc") bad(path, node["palette"], "submission.palette must be 'voc'");
    d.submission_palette = voc_colormap();
  }
}

// `context_459_ids: [0, 2, 9, ...]`: one 459-class id per train id, distinct.
void parse_context_ids(const std::string& path, const YAML::Node& node, DatasetDescriptor& d) {
  if (!node.IsSequence() || node.size() != d.classes.size()) {
    bad(path, node, "context_459_ids must list one id per class (" + std::to_string(d.classes.size()) + ")");
  }
  std::vector<bool> seen(460, false);
  for (const auto& entry : node) {
    const int id = entry.as<int>();
    if (id < 0 || id > 459) bad(path, entry, "context_459_ids entry " + std::to_string(id) + " outside [0, 459]");
    if (seen[static_cast<size_t>(id)]) bad(path, entry, "context_459_ids lists " + std::to_string(id) + " twice");
    seen[static_cast<size_t>(id)] = true;
    d.context_459_ids.push_back(id);
  }
}

}  // namespace

Rgb DatasetDescriptor::color(int train_id) const {
  if (train_id >= 0 && train_id < static_cast<int>(palette.size())) return palette[static_cast<size_t>(train_id)];
  return {255, 255, 255};
}

DatasetDescriptor load_descriptor(const std::string& path) {
  if (!fs::is_regular_file(path)) throw IoError("dataset descriptor not found: " + path);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": " + e.what());
  }
  DatasetDescriptor d;
  d.source = path;
  try {
    d.name = root["name"] ? root["name"].as<std::string>() : fs::path(path).stem().string();
    if (!root["classes"] || !root["classes"].IsSequence()) bad(path, root, "missing list 'classes'");
    d.classes = root["classes"].as<std::vector<std::string>>();
    if (root["ignore_label"]) d.ignore_label = root["ignore_label"].as<int>();
    if (root["palette"]) {
      for (const auto& entry : root["palette"]) d.palette.push_back(parse_rgb(path, entry));
      if (d.palette.size() != d.classes.size()) {
        bad(path, root["palette"],
            "palette has " + std::to_string(d.palette.size()) + " colours for " + std::to_string(d.classes.size()) +
                " classes");
      }
    } else {
      const auto voc = voc_colormap();
      d.palette.assign(voc.begin(), voc.begin() + static_cast<long>(std::min<size_t>(d.classes.size(), 256)));
    }
    if (root["things"]) d.things = root["things"].as<std::vector<int>>();
    for (int t : d.things) {
      if (t < 0 || t >= d.num_classes()) bad(path, root["things"], "thing id " + std::to_string(t) + " is not a class");
    }
    if (root["label_map"]) {
      parse_label_map(path, root["label_map"], d);
    } else {
      d.label_map.resize(256);
      for (int i = 0; i < 256; ++i) d.label_map[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
    }
    parse_submission(path, root["submission"], d);
    if (root["context_459_ids"]) parse_context_ids(path, root["context_459_ids"], d);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (d.classes.empty() || d.classes.size() > 255) throw ConfigError(path + ": 'classes' must list 1..255 names");
  return d;
}

std::string resolve_descriptor_path(const std::string& configured, const std::string& dataset) {
  if (!configured.empty()) {
    // A relative path that is not under the working directory may name one of
    // the project's descriptors (`datasets/synthetic_voc.yaml`), so configs
    // work from any directory (core/resources.h says where those are).
    if (!fs::exists(configured) && fs::path(configured).is_relative()) {
      const std::string found = core::find_resource(configured);
      if (!found.empty()) return found;
    }
    return configured;
  }
  std::string name = dataset;
  if (name == "voc_aug") name = "voc";
  if (name == "cityscapes_panoptic") name = "cityscapes";
  const std::string relative = (fs::path("datasets") / (name + ".yaml")).string();
  if (fs::is_regular_file(relative)) return relative;
  std::vector<std::string> tried{relative};
  const std::string found = core::find_resource(relative, &tried);
  if (!found.empty()) return found;
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
  throw IoError("no dataset descriptor for '" + dataset + "' (tried " + list + "); set data.descriptor");
}

std::vector<Rgb> voc_colormap() {
  std::vector<Rgb> map(256);
  for (int i = 0; i < 256; ++i) {
    int r = 0, g = 0, b = 0, c = i;
    for (int j = 0; j < 8; ++j) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    map[static_cast<size_t>(i)] = {static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b)};
  }
  return map;
}

}  // namespace deeplab::data
