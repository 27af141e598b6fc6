#pragma once
// A run directory holds everything one experiment produces: the effective
// config, the log, and later checkpoints, metrics and pictures.

#include <string>

#include "deeplab/experiment/config.h"

namespace deeplab::experiment {

/// Creates `dir`, writes `config.yaml` (the effective config) and starts
/// logging to `log.txt` there.  A `config.yaml` already there with other
/// content (a run resumed with changed settings) is kept (keep_previous_config).
/// A resume calls this only once the checkpoint has loaded, so a failed
/// resume leaves the directory as it was.
void prepare_run_dir(const Config& config, const std::string& dir);

/// Renames `dir`/config.yaml to config.<N>.yaml (the first free N from 1)
/// when it exists and differs from `new_yaml`; returns the new name, or ""
/// when there was nothing to keep.
std::string keep_previous_config(const std::string& dir, const std::string& new_yaml);

}  // namespace deeplab::experiment
