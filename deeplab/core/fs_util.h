#pragma once
// File helpers that never leave a half-written file behind.

#include <string>
#include <vector>

namespace deeplab::core {

/// Writes `content` to a temporary file beside `path` (`path.tmp<pid>`),
/// flushes it to disk and renames it over `path`: readers see the old file or
/// the new one, never a partial one, even if the process dies mid-write.  A
/// failed write (a full disk, a file-size limit) removes the temporary file
/// and throws IoError naming `path`; the previous `path` is unchanged.
void write_file_atomic(const std::string& path, const std::string& content);

/// Removes the temporary files (`*.tmp<pid>`) in `dir` that processes which
/// no longer run left behind when they were killed mid-write; returns their
/// paths.  A file of another running process is left alone; call it before
/// this process writes in `dir` (a killed run's pid may be this one's now).
std::vector<std::string> remove_stale_temporaries(const std::string& dir);

/// " (the disk is full ...)" for the errno values of a full disk or a
/// file-size limit, else "": what to do about a failed write.
std::string full_disk_hint(int error_number);

/// Test hook that simulates the process dying mid-write (kill -9): the next
/// write_file_atomic stops after `bytes` bytes and throws without renaming or
/// cleaning up, exactly as a killed process leaves things.  Resets itself.
void fail_next_atomic_write_after(size_t bytes);

/// Reads a whole file; throws IoError naming it when it cannot.
std::string read_file(const std::string& path);

}  // namespace deeplab::core
