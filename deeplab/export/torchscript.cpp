#include "deeplab/export/torchscript.h"

#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/jit_compat.h"

namespace deeplab::exporting {
namespace {

// "deeplab::models::ResNetImpl" -> "__torch__.deeplab.models.ResNetImpl":
// TorchScript class names must be dotted identifiers under __torch__.
c10::QualifiedName script_type_name(const torch::nn::Module& module) {
  std::string name = "__torch__.";
  const std::string& cpp = module.name();
  for (size_t i = 0; i < cpp.size(); ++i) {
    if (cpp.compare(i, 2, "::") == 0) {
      name += '.';
      ++i;
    } else {
      const auto c = static_cast<unsigned char>(cpp[i]);
      name += std::isalnum(c) ? static_cast<char>(c) : '_';
    }
  }
  return c10::QualifiedName(name);
}

// Mirrors the nn::Module tree; the script module holds the same tensor
// objects, which is how the tracer turns their uses into attribute reads.
torch::jit::Module mirror(const torch::nn::Module& module, const std::shared_ptr<torch::jit::CompilationUnit>& cu) {
  torch::jit::Module out(script_type_name(module), cu, /*shouldMangle=*/true);
  out.register_attribute("training", c10::BoolType::get(), false);
  for (const auto& p : module.named_parameters(/*recurse=*/false)) out.register_parameter(p.key(), p.value(), false);
  for (const auto& b : module.named_buffers(/*recurse=*/false)) out.register_buffer(b.key(), b.value());
  for (const auto& child : module.named_children()) out.register_module(child.key(), mirror(*child.value(), cu));
  return out;
}

// Restores the module's training flag however the export ends.
class EvalScope {
 public:
  explicit EvalScope(torch::nn::Module& m) : module_(m), was_training_(m.is_training()) { module_.eval(); }
  ~EvalScope() { module_.train(was_training_); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

}  // namespace

void export_torchscript(torch::nn::Module& module, const ExportForward& forward, const torch::Tensor& example,
                        const ExportMetadata& meta, const std::string& path) {
  if (!example.defined() || example.dim() != 4) throw Error("export: the example input must be an NCHW tensor");
  const std::string json = metadata_to_json(meta);
  EvalScope eval(module);
  torch::NoGradGuard no_grad;
  torch::jit::Module script = mirror(module, std::make_shared<torch::jit::CompilationUnit>());
  try {
    core::jit_compat::trace_into(script, forward, example);
  } catch (const c10::Error& e) {
    throw Error("export: tracing " + module.name() + " failed: " + e.what_without_backtrace());
  }
  // Saved to memory, then written atomically: LibTorch's file writer throws
  // from its destructor when the disk fills (std::terminate), and would leave
  // a partial file behind.
  std::ostringstream bytes;
  try {
    script.save(bytes, {{kMetadataFile, json}});
  } catch (const c10::Error& e) {
    throw IoError("cannot write '" + path + "': " + e.what_without_backtrace());
  }
  core::write_file_atomic(path, bytes.str());
}

ExportMetadata read_export_metadata(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw IoError(path + ": no such file (--model takes the model.pt that deeplab export wrote)");
  }
  std::string json;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    const std::string record = std::string("extra/") + kMetadataFile;
    if (!reader.hasRecord(record)) {
      throw IoError(path + ": has no " + kMetadataFile + " (not written by deeplab export)");
    }
    auto [data, size] = reader.getRecord(record);
    json.assign(static_cast<const char*>(data.get()), size);
  } catch (const c10::Error& e) {
    throw IoError(path + ": not a TorchScript archive: " + e.what_without_backtrace());
  }
  return metadata_from_json(json, path);
}

}  // namespace deeplab::exporting
