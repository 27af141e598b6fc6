#include "deeplab/train/optimizer_archive.h"

#include <torch/serialize/output-archive.h>
#include <torch/version.h>

#include <regex>
#include <sstream>

namespace deeplab::train {
namespace {

bool is_hexadecimal_address(const std::string& text) {
  static const std::regex hex("0x[0-9a-fA-F]+");
  return std::regex_match(text, hex);
}

std::string decimal_address(const std::string& text) {
  return is_hexadecimal_address(text) ? std::to_string(std::stoull(text, nullptr, 16)) : text;
}

// A copy of `in` with every hexadecimal address (as a key or a string value)
// in decimal; tensors, numbers and nested archives as they are.
void copy_with_decimal_addresses(torch::serialize::InputArchive& in, torch::serialize::OutputArchive& out) {
  for (const std::string& key : in.keys()) {
    const std::string new_key = decimal_address(key);
    torch::serialize::InputArchive child;
    torch::Tensor tensor;
    if (in.try_read(key, child)) {
      torch::serialize::OutputArchive copy(out.compilation_unit());
      copy_with_decimal_addresses(child, copy);
      out.write(new_key, copy);
    } else if (in.try_read(key, tensor)) {
      out.write(new_key, tensor);
    } else {
      c10::IValue value;
      in.read(key, value);
      if (value.isString()) value = decimal_address(value.toStringRef());
      out.write(new_key, value);
    }
  }
}

}  // namespace

bool has_hexadecimal_parameter_keys(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive state;
  if (!archive.try_read("state", state)) return false;
  for (const std::string& key : state.keys()) {
    if (is_hexadecimal_address(key)) return true;
  }
  return false;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive) {
#if TORCH_VERSION_MAJOR >= 2
  if (has_hexadecimal_parameter_keys(archive)) {
    torch::serialize::OutputArchive converted;
    copy_with_decimal_addresses(archive, converted);
    std::stringstream bytes;
    converted.save_to(bytes);
    torch::serialize::InputArchive reread;
    reread.load_from(bytes);
    optimizer.load(reread);
    return;
  }
#endif
  optimizer.load(archive);
}

}  // namespace deeplab::train
