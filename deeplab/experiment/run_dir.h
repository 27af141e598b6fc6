#pragma once
// A run directory holds everything one experiment produces: the effective
// config, the log, and later checkpoints, metrics and pictures.

#include <string>

#include "deeplab/experiment/config.h"

namespace deeplab::experiment {

/// Creates `dir`, writes `config.yaml` (the effective config) and starts
/// logging to `log.txt` there.
void prepare_run_dir(const Config& config, const std::string& dir);

}  // namespace deeplab::experiment
