// The `deeplab` command: global flags, subcommand dispatch, and the one place
// where library errors become a one-line message and a non-zero exit.

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <csignal>
#include <iostream>

#include "deeplab/core/error.h"
#include "deeplab/core/logging.h"
#include "deeplab/core/runtime.h"
#include "deeplab/core/stop_signal.h"
#include "tools/commands.h"

#ifndef DEEPLAB_VERSION
#define DEEPLAB_VERSION "unknown"
#endif

namespace {

int fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists, so that every thread inherits the blocked mask.
  deeplab::core::start_signal_thread();
  // A file-size limit (ulimit -f) kills with SIGXFSZ by default, mid-write;
  // ignored, the write fails with EFBIG and becomes a clear error that leaves
  // the previous checkpoint or output as it was.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{
      "deeplab: DeepLab v1/v2/v3/v3+ and Panoptic-DeepLab on LibTorch: train, evaluate (mIoU, iIoU, PQ), "
      "predict on images, folders and videos, export to TorchScript",
      "deeplab"};
  bool show_version = false;
  app.add_flag("--version", show_version, "print versions of deeplab, LibTorch, BLAS, threads and CUDA");
  app.add_option("--log-level", "trace, debug, info, warn, error or off (overrides runtime.log_level)")
      ->each([](const std::string& level) { deeplab::core::set_command_line_log_level(level); });

  deeplab::tools::add_config_command(app);
  deeplab::tools::add_train_command(app);
  deeplab::tools::add_launch_command(app);
  deeplab::tools::add_import_command(app);
  deeplab::tools::add_export_command(app);
  deeplab::tools::add_model_command(app);
  deeplab::tools::add_eval_command(app);
  deeplab::tools::add_eval_semantic_command(app);
  deeplab::tools::add_predict_command(app);
  deeplab::tools::add_eval_panoptic_command(app);
  deeplab::tools::add_data_command(app);
  deeplab::tools::add_bench_command(app);

  try {
    app.parse(argc, argv);
    if (show_version) {
      deeplab::core::apply_threads(0);
      std::cout << "deeplab " << DEEPLAB_VERSION << "\n" << deeplab::core::build_summary();
      return 0;
    }
    if (app.get_subcommands().empty()) {
      std::cout << app.help();
      return 1;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const deeplab::Error& e) {
    return fail(e.what());
  } catch (const c10::Error& e) {
    return fail(e.what_without_backtrace());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
