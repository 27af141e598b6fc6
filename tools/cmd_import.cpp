// `deeplab import --inspect IN.pth`: what a Python torch.save file holds
// (keys, dtypes, shapes), read by our own .pth reader.
// `deeplab import --from torchvision|timm --arch ARCH IN OUT`: torchvision or
// timm (aligned Xception) weights, .pth or .safetensors, checked against (and
// loaded into) our model, written in our names.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iomanip>
#include <iostream>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/model_config.h"
#include "deeplab/weights/model_io.h"
#include "deeplab/weights/pth_reader.h"
#include "deeplab/weights/timm_import.h"
#include "deeplab/weights/torchvision_import.h"
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
  const weights::StateDict sd = weights::read_state_dict(path);
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

struct ImportArgs {
  std::string input, output, from = "torchvision", arch;
  bool inspect = false;
  int num_classes = 0;
};

// Segmentation files carry their class count and aux head; backbones don't.
models::ModelConfig config_for_file(const ImportArgs& args, const weights::StateDict& entries) {
  int num_classes = args.num_classes > 0 ? args.num_classes : 21;
  bool aux = false;
  for (const auto& [key, tensor] : entries) {
    if (key == "classifier.4.weight" && args.num_classes == 0) num_classes = static_cast<int>(tensor.size(0));
    if (key.rfind("aux_classifier.", 0) == 0) aux = true;
  }
  return weights::torchvision_model_config(args.arch, num_classes, aux);
}

// --arch names a torchvision model (deeplabv3_resnet50) or a backbone
// (resnet50); an unknown one is reported as the flag, not as the config key
// it would become.
void check_torchvision_arch(const std::string& arch) {
  const std::string prefix = "deeplabv3_";
  const std::string backbone = arch.rfind(prefix, 0) == 0 ? arch.substr(prefix.size()) : arch;
  const auto known = models::backbone_names();
  if (std::find(known.begin(), known.end(), backbone) != known.end()) return;
  std::string names;
  for (const auto& name : known) names += (names.empty() ? "" : ", ") + name;
  throw ConfigError("import --arch '" + arch +
                    "': not a torchvision model or backbone; expected deeplabv3_<backbone> "
                    "or a backbone: " +
                    names);
}

// timm files hold an ImageNet backbone only; the head around it is ours.
models::ModelConfig timm_model_config(const ImportArgs& args) {
  if (args.arch != "xception65" && args.arch != "xception71") {
    throw ConfigError("import --from timm --arch '" + args.arch + "': expected xception65 or xception71");
  }
  models::ModelConfig c;
  c.arch = "deeplabv3plus";
  c.num_classes = args.num_classes > 0 ? args.num_classes : 21;
  c.backbone.name = args.arch;
  return c;
}

void convert(const ImportArgs& args) {
  if (args.from != "torchvision" && args.from != "timm") {
    throw ConfigError("import --from '" + args.from + "': expected torchvision or timm");
  }
  if (args.arch.empty() || args.output.empty()) {
    throw ConfigError("import --from " + args.from +
                      " needs --arch ARCH and an output file: import --arch ARCH IN OUT");
  }
  const bool timm = args.from == "timm";
  if (!timm) check_torchvision_arch(args.arch);
  const weights::StateDict entries = weights::read_state_dict(args.input);
  const models::ModelConfig config = timm ? timm_model_config(args) : config_for_file(args, entries);
  models::DeepLab model = models::build_model(config);
  const auto report = timm ? weights::import_timm_xception(*model, entries, args.input, config.backbone.name)
                           : weights::import_torchvision(*model, entries, args.input, config.backbone.name);
  weights::StateDict loaded;
  const auto ours = weights::module_state_dict(*model);
  for (const auto& [key, tensor] : ours) {
    if (std::find(report.loaded.begin(), report.loaded.end(), key) != report.loaded.end())
      loaded.emplace_back(key, tensor);
  }
  weights::save_state_dict(loaded, args.output);
  std::cout << args.input << " -> " << args.output << ": " << loaded.size() << " of " << ours.size() << " tensors of "
            << weights::describe_arch(config) << " (" << config.num_classes << " classes"
            << (config.aux_loss ? ", aux head" : "") << ")\n";
  if (!report.missing.empty()) {
    std::cout << report.missing.size() << " tensors are not in the file and keep their initialisation (e.g. "
              << report.missing.front() << ")\n";
  }
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("import", "read Python weights (.pth, .safetensors), convert torchvision and timm weights");
  auto args = std::make_shared<ImportArgs>();
  cmd->add_flag("--inspect", args->inspect, "list the state dict's keys, dtypes and shapes");
  cmd->add_option("--from", args->from, "source framework: torchvision (default) or timm");
  cmd->add_option("--arch", args->arch,
                  "torchvision: deeplabv3_resnet50, deeplabv3_resnet101, deeplabv3_mobilenet_v3_large, or an ImageNet "
                  "backbone: resnet50, resnet101, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small, vgg16; "
                  "timm: xception65, xception71");
  cmd->add_option("--num-classes", args->num_classes, "classes of the head (default: from the file, else 21)");
  cmd->add_option("input", args->input,
                  "a torch.save file (state dict, or checkpoint with 'state_dict'/'model') or a .safetensors file")
      ->required();
  cmd->add_option("output", args->output, "where to write the weights in our names (not with --inspect)");
  cmd->callback([args] {
    if (args->inspect) {
      inspect(args->input);
    } else {
      convert(*args);
    }
  });
}

}  // namespace deeplab::tools
