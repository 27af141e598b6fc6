#include "deeplab/core/config.h"

#include <filesystem>
#include <regex>

#include "deeplab/core/config_io.h"
#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::core {

bool is_device_spec(const std::string& spec) {
  static const std::regex pattern("cpu|cuda|cuda:[0-9]+|auto");
  return std::regex_match(spec, pattern);
}

Config config_from_tree(const ConfigTree& tree) {
  Config config;
  ConfigReader reader(tree.root, "", tree);
  config.fields(reader);
  reader.reject_unknown_keys();
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  ConfigTree tree = load_config_tree(path);
  for (const auto& assignment : overrides) apply_override(tree, assignment);
  return config_from_tree(tree);
}

std::string config_to_yaml(const Config& config) {
  ConfigWriter writer;
  const_cast<Config&>(config).fields(writer);
  YAML::Emitter out;
  out << writer.node;
  return std::string(out.c_str()) + "\n";
}

void write_effective_config(const Config& config, const std::string& dir) {
  std::filesystem::create_directories(dir);
  write_file_atomic((std::filesystem::path(dir) / "config.yaml").string(), config_to_yaml(config));
}

}  // namespace deeplab::core
