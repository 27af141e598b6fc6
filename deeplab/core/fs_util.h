#pragma once
// File helpers that never leave a half-written file behind.

#include <string>

namespace deeplab::core {

/// Writes `content` to a temporary file beside `path`, flushes it to disk and
/// renames it over `path`: readers see the old file or the new one, never a
/// partial one, even if the process dies mid-write.
void write_file_atomic(const std::string& path, const std::string& content);

/// Test hook that simulates the process dying mid-write (kill -9): the next
/// write_file_atomic stops after `bytes` bytes and throws without renaming or
/// cleaning up, exactly as a killed process leaves things.  Resets itself.
void fail_next_atomic_write_after(size_t bytes);

/// Reads a whole file; throws IoError naming it when it cannot.
std::string read_file(const std::string& path);

}  // namespace deeplab::core
