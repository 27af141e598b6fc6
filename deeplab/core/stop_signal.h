#pragma once
// SIGINT/SIGTERM handling without an asynchronous handler: the signals are
// blocked in every thread and one thread waits for them with sigwait(), so a
// signal never interrupts compute, I/O or OpenMP threads.  Long jobs that can
// stop cleanly (training) ask for a graceful stop; everything else exits at
// once with 128 + signal, as it would by default.

namespace deeplab::core {

/// Blocks SIGINT/SIGTERM and starts the waiting thread.  Call first thing in
/// main(), before any other thread exists (threads inherit the mask).
void start_signal_thread();

/// From now on the first SIGINT/SIGTERM only sets stop_requested() (a second
/// one exits at once).  Starts the signal thread if main() did not.
void enable_graceful_stop();

/// Whether a stop was requested since enable_graceful_stop().
bool stop_requested();

}  // namespace deeplab::core
