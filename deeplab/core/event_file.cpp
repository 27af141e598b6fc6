#include "deeplab/core/event_file.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "deeplab/core/error.h"

namespace deeplab::core {

namespace {

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;  // reflected Castagnoli
    table[i] = crc;
  }
  return table;
}

std::string little_endian(uint64_t value, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (int i = 0; i < bytes; ++i) out[static_cast<size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// Protobuf wire format: keys, varints, fixed64/fixed32 and length-delimited fields.
std::string varint(uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}
std::string key(int field, int wire_type) { return varint(static_cast<uint64_t>(field << 3 | wire_type)); }
std::string varint_field(int field, uint64_t value) { return key(field, 0) + varint(value); }
std::string bytes_field(int field, const std::string& bytes) { return key(field, 2) + varint(bytes.size()) + bytes; }
std::string double_field(int field, double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return key(field, 1) + little_endian(bits, 8);
}
std::string float_field(int field, float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return key(field, 5) + little_endian(bits, 4);
}

// tensorflow.Event: wall_time 1, step 2, file_version 3, summary 5, session_log 7.
std::string event(double wall_time, int64_t step, const std::string& what) {
  return double_field(1, wall_time) + varint_field(2, static_cast<uint64_t>(step)) + what;
}
// Summary { repeated Value value = 1 }; Value: tag 1, simple_value 2, image 4, tensor 8, metadata 9.
std::string summary_of(const std::string& value) { return bytes_field(5, bytes_field(1, value)); }

uint32_t big_endian32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(s[at + i]);
  return v;
}

std::string host_name() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

uint32_t crc32c(const std::string& bytes) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : bytes) crc = table[(crc ^ c) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

uint32_t masked_crc32c(const std::string& bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tfrecord(const std::string& data) {
  const std::string length = little_endian(data.size(), 8);
  return length + little_endian(masked_crc32c(length), 4) + data + little_endian(masked_crc32c(data), 4);
}

namespace event_proto {

std::string file_version(double wall_time) { return event(wall_time, 0, bytes_field(3, "brain.Event:2")); }

std::string scalar(double wall_time, int64_t step, const std::string& tag, float value) {
  return event(wall_time, step, summary_of(bytes_field(1, tag) + float_field(2, value)));
}

std::string image(double wall_time, int64_t step, const std::string& tag, const std::string& png) {
  // PNG: 8-byte signature, then the IHDR chunk (length, "IHDR", width, height).
  if (png.size() < 24 || png.compare(12, 4, "IHDR") != 0) throw DataError("TensorBoard image '" + tag + "': not a PNG");
  const uint32_t width = big_endian32(png, 16), height = big_endian32(png, 20);
  // Image: height 1, width 2, colorspace 3 (3 = RGB), encoded_image_string 4.
  const std::string image = varint_field(1, height) + varint_field(2, width) + varint_field(3, 3) + bytes_field(4, png);
  return event(wall_time, step, summary_of(bytes_field(1, tag) + bytes_field(4, image)));
}

std::string text(double wall_time, int64_t step, const std::string& tag, const std::string& text) {
  // SummaryMetadata { PluginData plugin_data = 1 { plugin_name = 1 } };
  // TensorProto { dtype = 1 (DT_STRING = 7), tensor_shape = 2 (a scalar: empty), string_val = 8 }.
  const std::string metadata = bytes_field(1, bytes_field(1, "text"));
  const std::string tensor = varint_field(1, 7) + bytes_field(2, "") + bytes_field(8, text);
  return event(wall_time, step, summary_of(bytes_field(1, tag) + bytes_field(9, metadata) + bytes_field(8, tensor)));
}

std::string session_start(double wall_time, int64_t step) {
  return event(wall_time, step, bytes_field(7, varint_field(1, 1)));  // SessionLog { status = START }
}

}  // namespace event_proto

EventFileWriter::EventFileWriter(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const auto seconds = static_cast<int64_t>(wall_time_now());
  const std::string base =
      (std::filesystem::path(dir) / ("events.out.tfevents." + std::to_string(seconds) + "." + host_name())).string();
  path_ = base;
  // Two writers within a second (a quick resume): keep both files.
  for (int n = 1; std::filesystem::exists(path_); ++n) path_ = base + "." + std::to_string(n);
  out_.open(path_, std::ios::binary | std::ios::app);
  if (!out_) throw IoError("cannot create TensorBoard event file " + path_);
  write(event_proto::file_version(wall_time_now()));
}

void EventFileWriter::write(const std::string& event) {
  out_ << tfrecord(event);
  out_.flush();
  if (!out_) throw IoError("cannot write TensorBoard event file " + path_ + " (disk full?)");
}

double wall_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace deeplab::core
