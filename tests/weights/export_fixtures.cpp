#include "tests/weights/export_fixtures.h"

#include "deeplab/core/fs_util.h"
#include "deeplab/weights/pth_writer.h"
#include "tests/support/test_support.h"

namespace deeplab::testing {

const std::string& export_fixture_dir() {
  static const std::string dir = python_fixture_dir("export_fixtures.py");
  return dir;
}

int run_fixture_script(const std::string& args, std::string* output) {
  return run_shell(
      deeplab::testing::oracle_python() + " " + source_dir() + "/scripts/fixtures/export_fixtures.py " + args, output);
}

c10::Dict<c10::IValue, c10::IValue> load_plain_dict(const std::string& path) {
  const std::string bytes = core::read_file(path);
  return torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toGenericDict();
}

void save_plain_dict(const c10::Dict<std::string, torch::Tensor>& dict, const std::string& path) {
  weights::StateDict entries;
  for (const auto& entry : dict) entries.emplace_back(entry.key(), entry.value());
  weights::write_pth(entries, path);
}

bool close_enough(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a - b).abs().max().item<double>() <= 1e-4 * scale;
}

}  // namespace deeplab::testing
