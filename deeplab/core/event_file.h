#pragma once
// TensorBoard event files, written without TensorFlow: each record is
// length (uint64 LE), masked CRC32C of the length, data, masked CRC32C of the
// data (TFRecord framing), and each datum a protobuf-encoded tensorflow.Event
// (scalars, PNG images, text, and the SessionLog START that makes TensorBoard
// drop what a resumed run rewrites).  Encoded by hand: a handful of fields
// does not justify protobuf as a dependency.

#include <cstdint>
#include <fstream>
#include <string>

namespace deeplab::core {

/// CRC-32C (Castagnoli), as TFRecord frames use it.
uint32_t crc32c(const std::string& bytes);
/// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t masked_crc32c(const std::string& bytes);
/// One framed record around `data`.
std::string tfrecord(const std::string& data);

/// Serialised tensorflow.Event messages.
namespace event_proto {
std::string file_version(double wall_time);
std::string scalar(double wall_time, int64_t step, const std::string& tag, float value);
/// `png`: a whole PNG file; its size is read from the IHDR chunk.
std::string image(double wall_time, int64_t step, const std::string& tag, const std::string& png);
/// A text-plugin summary (rendered as Markdown).
std::string text(double wall_time, int64_t step, const std::string& tag, const std::string& text);
/// SessionLog START at `step`: TensorBoard discards earlier files' events at
/// and after this step (a run that resumed from its checkpoint).
std::string session_start(double wall_time, int64_t step);
}  // namespace event_proto

/// Appends events to `<dir>/events.out.tfevents.<seconds>.<host>` (a new file
/// per writer, as TensorFlow does); flushes after every event, so a crash
/// loses at most the record being written, which readers skip.
class EventFileWriter {
 public:
  /// IoError naming the file when it cannot be created.
  explicit EventFileWriter(const std::string& dir);
  void write(const std::string& event);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

/// Seconds since the epoch, with the fraction (an event's wall_time).
double wall_time_now();

}  // namespace deeplab::core
