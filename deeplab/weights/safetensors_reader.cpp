#include "deeplab/weights/safetensors_reader.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "deeplab/core/error.h"

namespace deeplab::weights {
namespace {

using json = nlohmann::ordered_json;

// The reference implementation refuses headers above 100 MB; so do we, which
// also stops a stray file's first 8 bytes from asking for terabytes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

const std::map<std::string, torch::ScalarType>& safetensors_dtypes() {
  static const std::map<std::string, torch::ScalarType> dtypes = {
      {"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf},  {"BF16", torch::kBFloat16},
      {"I64", torch::kLong},   {"I32", torch::kInt},   {"I16", torch::kShort}, {"I8", torch::kChar},
      {"U8", torch::kByte},    {"BOOL", torch::kBool},
  };
  return dtypes;
}

uint64_t little_endian_u64(const unsigned char* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// Header length, or 0 when the file cannot be a safetensors file.
uint64_t header_length(std::ifstream& in, uint64_t file_size) {
  unsigned char prefix[9] = {};
  in.read(reinterpret_cast<char*>(prefix), 9);
  if (in.gcount() != 9) return 0;
  const uint64_t n = little_endian_u64(prefix);
  if (n < 2 || n > kMaxHeaderBytes || n > file_size - 8 || prefix[8] != '{') return 0;
  return n;
}

struct TensorEntry {
  std::string name;
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

TensorEntry parse_entry(const std::string& name, const json& value, uint64_t data_size, const std::string& path) {
  const std::string where = path + ": tensor '" + name + "'";
  if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets")) {
    throw IoError(where + " needs dtype, shape and data_offsets in the header");
  }
  TensorEntry e;
  e.name = name;
  const auto dtype = safetensors_dtypes().find(value["dtype"].is_string() ? value["dtype"].get<std::string>() : "");
  if (dtype == safetensors_dtypes().end()) {
    throw IoError(where + " has dtype " + value["dtype"].dump() +
                  ", which is not supported (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
  }
  e.dtype = dtype->second;
  if (!value["shape"].is_array()) throw IoError(where + " has shape " + value["shape"].dump() + ", expected a list");
  int64_t numel = 1;
  for (const auto& d : value["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) throw IoError(where + " has shape " + value["shape"].dump());
    e.shape.push_back(d.get<int64_t>());
    numel *= e.shape.back();
  }
  const json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    throw IoError(where + " has data_offsets " + offsets.dump() + ", expected [begin, end]");
  }
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  const uint64_t expected = static_cast<uint64_t>(numel) * c10::elementSize(e.dtype);
  if (e.begin > e.end) {
    throw IoError(where + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                  "]: the end comes before the begin (a damaged header)");
  }
  if (e.end > data_size) {
    throw IoError(where + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                  "] outside the " + std::to_string(data_size) + " data bytes (a truncated file?)");
  }
  if (e.end - e.begin != expected) {
    throw IoError(where + " spans " + std::to_string(e.end - e.begin) + " bytes, but " +
                  value["dtype"].get<std::string>() + " " + value["shape"].dump() + " needs " +
                  std::to_string(expected));
  }
  return e;
}

}  // namespace

bool is_safetensors_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size < 10) return false;
  std::ifstream in(path, std::ios::binary);
  return in && header_length(in, size) != 0;
}

StateDict read_safetensors(const std::string& path) {
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) throw IoError(path + ": cannot open for reading");
  const uint64_t n = file_size >= 10 ? header_length(in, file_size) : 0;
  if (n == 0) throw IoError(path + ": not a safetensors file (no 8-byte header length followed by a JSON header)");
  std::string text(n, '\0');
  in.seekg(8);
  in.read(text.data(), static_cast<std::streamsize>(n));
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {
    throw IoError(path + ": safetensors header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) throw IoError(path + ": safetensors header is not a JSON object");
  const uint64_t data_start = 8 + n, data_size = file_size - data_start;
  StateDict out;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    const TensorEntry e = parse_entry(name, value, data_size, path);
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    in.seekg(static_cast<std::streamoff>(data_start + e.begin));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
    if (!in) throw IoError(path + ": tensor '" + name + "': read failed");
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

}  // namespace deeplab::weights
