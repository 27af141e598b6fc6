// `deeplab import --inspect IN.pth`: what a Python torch.save file holds
// (keys, dtypes, shapes), read by our own .pth reader.  Converting torchvision
// weights for a given architecture (--from/--arch) is wired in by the models.

#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>

#include "deeplab/core/error.h"
#include "deeplab/export/pth_reader.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

// Python's dtype spelling: what people compare against torch's own printout.
std::string python_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "float32";
    case torch::kDouble: return "float64";
    case torch::kHalf: return "float16";
    case torch::kBFloat16: return "bfloat16";
    case torch::kLong: return "int64";
    case torch::kInt: return "int32";
    case torch::kShort: return "int16";
    case torch::kChar: return "int8";
    case torch::kByte: return "uint8";
    case torch::kBool: return "bool";
    default: return c10::toString(t);
  }
}

void inspect(const std::string& path) {
  const exporting::StateDict sd = exporting::read_state_dict(path);
  size_t width = 0;
  int64_t elements = 0;
  size_t bytes = 0;
  for (const auto& [name, tensor] : sd) {
    width = std::max(width, name.size());
    elements += tensor.numel();
    bytes += tensor.numel() * tensor.element_size();
  }
  for (const auto& [name, tensor] : sd) {
    std::cout << std::left << std::setw(static_cast<int>(width) + 2) << name << std::setw(10)
              << python_dtype(tensor.scalar_type()) << tensor.sizes() << "\n";
  }
  std::cout << path << ": " << sd.size() << " tensors, " << elements << " elements, " << std::fixed
            << std::setprecision(1) << bytes / 1e6 << " MB\n";
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("import", "read Python torch.save weights (.pth)");
  auto input = std::make_shared<std::string>();
  auto show = std::make_shared<bool>(false);
  cmd->add_flag("--inspect", *show, "list the state dict's keys, dtypes and shapes");
  cmd->add_option("input", *input, "a torch.save file (state dict, or checkpoint with 'state_dict'/'model')")
      ->required();
  cmd->callback([input, show] {
    if (!*show) {
      throw ConfigError("import: converting weights needs --arch, which is not available yet; use --inspect " +
                        *input + " to list what the file holds");
    }
    inspect(*input);
  });
}

}  // namespace deeplab::tools
