#pragma once
// File helpers that never leave a half-written file behind.

#include <string>

namespace deeplab::core {

/// Writes `content` to a temporary file beside `path`, flushes it to disk and
/// renames it over `path`: readers see the old file or the new one, never a
/// partial one, even if the process dies mid-write.
void write_file_atomic(const std::string& path, const std::string& content);

/// Reads a whole file; throws IoError naming it when it cannot.
std::string read_file(const std::string& path);

}  // namespace deeplab::core
