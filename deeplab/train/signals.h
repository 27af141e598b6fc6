#pragma once
// SIGINT/SIGTERM -> "finish this step, checkpoint, exit 0": the handler only
// sets a flag that the training loop polls between steps.

namespace deeplab::train {

/// Installs handlers for SIGINT and SIGTERM (a second signal exits at once).
void install_stop_handlers();
/// Whether a stop signal arrived since install_stop_handlers().
bool stop_signal_received();

}  // namespace deeplab::train
