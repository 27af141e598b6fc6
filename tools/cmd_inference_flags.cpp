// The inference flags eval, predict and bench share: each one is a config
// override of the eval: section (models/inference_options.h), so a flag, a
// --set and the YAML all say the same thing and the config checks them.

#include <CLI/CLI.hpp>

#include "tools/commands.h"

namespace deeplab::tools {

void add_inference_flags(CLI::App& cmd, std::vector<std::string>& sets) {
  cmd.add_flag_callback(
      "--fold-bn", [&sets] { sets.push_back("eval.fold_bn=true"); },
      "fold BN into the convolutions (eval.fold_bn; default on)");
  cmd.add_flag_callback(
      "--no-fold-bn", [&sets] { sets.push_back("eval.fold_bn=false"); }, "keep BN layers");
  cmd.add_flag_callback(
      "--channels-last", [&sets] { sets.push_back("eval.channels_last=true"); },
      "weights and inputs channels-last (eval.channels_last; default on)");
  cmd.add_flag_callback(
      "--no-channels-last", [&sets] { sets.push_back("eval.channels_last=false"); }, "NCHW weights and inputs");
  cmd.add_option_function<std::string>(
         "--amp", [&sets](const std::string& mode) { sets.push_back("eval.amp=" + mode); },
         "autocast: none, bf16 (CPU; needs avx512_bf16/AMX to gain) or fp16 (CUDA); eval.amp")
      ->check(CLI::IsMember({"none", "bf16", "fp16"}));
}

std::vector<std::string> with_flag_overrides(std::vector<std::string> sets, const std::vector<std::string>& flag_sets) {
  sets.insert(sets.end(), flag_sets.begin(), flag_sets.end());
  return sets;
}

CLI::Validator at_least(long minimum) {
  return CLI::Validator(
      [minimum](std::string& value) -> std::string {
        long number = 0;
        size_t used = 0;
        try {
          number = std::stol(value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != value.size() || value.empty()) return "expected a whole number, got '" + value + "'";
        if (number < minimum) return "must be at least " + std::to_string(minimum) + ", got " + value;
        return "";
      },
      "INT>=" + std::to_string(minimum));
}

}  // namespace deeplab::tools
