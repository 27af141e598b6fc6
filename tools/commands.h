#pragma once
// Each subcommand of `deeplab` lives in its own thin file (cmd_<name>.cpp):
// parse arguments -> config -> one library call.  main.cpp registers them.

namespace CLI {
class App;
class Validator;
}  // namespace CLI

#include <string>
#include <vector>

namespace deeplab::tools {

void add_config_command(CLI::App& app);
void add_import_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_launch_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_model_command(CLI::App& app);
/// `deeplab eval` and `deeplab eval-merge` (cmd_eval.cpp).
void add_eval_command(CLI::App& app);
void add_eval_semantic_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_eval_panoptic_command(CLI::App& app);
/// `deeplab data ...`: creates the group; each data subcommand registers itself from cmd_data.cpp.
void add_data_command(CLI::App& app);
void add_data_cityscapes_panoptic(CLI::App& data);
void add_data_synth(CLI::App& data);
void add_data_make_trainaug(CLI::App& data);
void add_data_stats(CLI::App& data);
void add_data_show(CLI::App& data);
/// `deeplab bench ...`: throughput measurements (loader).
void add_bench_command(CLI::App& app);
/// --fold-bn/--no-fold-bn, --channels-last/--no-channels-last and --amp on
/// `cmd`, each appended to `flag_sets` as an eval.* override
/// (cmd_inference_flags.cpp).  A vector of its own: CLI11 assigns --set's
/// vector when it parses it, which would drop what a flag had appended.
void add_inference_flags(CLI::App& cmd, std::vector<std::string>& flag_sets);
/// `sets` then `flag_sets`: a flag wins over a --set of the same key.
std::vector<std::string> with_flag_overrides(std::vector<std::string> sets, const std::vector<std::string>& flag_sets);
/// A count flag's check: an integer of at least `minimum`, else "must be
/// at least 1, got 0" (CLI11's own range check printed its limits as floats).
CLI::Validator at_least(long minimum);

}  // namespace deeplab::tools
