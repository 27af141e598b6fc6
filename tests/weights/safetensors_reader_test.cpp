// .safetensors read without a library: values and dtypes round trip from a
// file written here by the format's rules (8-byte little-endian header
// length, JSON header, raw data); every malformed file is an IoError naming
// the file and the tensor at fault.  (timm_import_test reads Python-written
// files of 160 MB.)

#include "deeplab/weights/safetensors_reader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstring>
#include <fstream>

#include "deeplab/core/error.h"
#include "tests/support/test_support.h"

namespace deeplab::weights {
namespace {

struct RawTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

std::string bytes_of(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

// Header `header_patch` is merged over the generated one, to break it on purpose.
std::string write_safetensors(const testing::TempDir& dir, const std::vector<RawTensor>& tensors,
                              const nlohmann::ordered_json& header_patch = nlohmann::ordered_json::object(),
                              size_t truncate = 0) {
  nlohmann::ordered_json header = {{"__metadata__", {{"format", "pt"}}}};
  std::string data;
  for (const auto& t : tensors) {
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  header.merge_patch(header_patch);
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) file[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  file += text + data;
  file.resize(file.size() - truncate);
  return dir.write("w.safetensors", file);
}

TEST(Safetensors, EveryDtypeRoundTrips) {
  testing::TempDir dir;
  const auto f32 = torch::randn({2, 3, 4});
  const auto f64 = torch::randn({5}, torch::kDouble);
  const auto f16 = torch::randn({3, 2}).to(torch::kHalf);
  const auto bf16 = torch::randn({4}).to(torch::kBFloat16);
  const auto i64 = torch::tensor({int64_t{-7}, int64_t{1} << 40});
  const auto i32 = torch::tensor({-3, 9}, torch::kInt);
  const auto u8 = torch::tensor({0, 200, 255}, torch::kByte);
  const auto b = torch::tensor({true, false});
  const auto scalar = torch::tensor(int64_t{12345});  // num_batches_tracked: shape []
  const std::string path = write_safetensors(dir, {{"a.weight", "F32", {2, 3, 4}, bytes_of(f32)},
                                                   {"b", "F64", {5}, bytes_of(f64)},
                                                   {"c", "F16", {3, 2}, bytes_of(f16)},
                                                   {"d", "BF16", {4}, bytes_of(bf16)},
                                                   {"e", "I64", {2}, bytes_of(i64)},
                                                   {"f", "I32", {2}, bytes_of(i32)},
                                                   {"g", "U8", {3}, bytes_of(u8)},
                                                   {"h", "BOOL", {2}, bytes_of(b)},
                                                   {"bn.num_batches_tracked", "I64", {}, bytes_of(scalar)}});
  ASSERT_TRUE(is_safetensors_file(path));
  const StateDict sd = read_state_dict(path);  // read_state_dict tells the format by content
  ASSERT_EQ(sd.size(), 9u);
  EXPECT_EQ(sd[0].first, "a.weight") << "the header's order is kept";
  const std::vector<torch::Tensor> expected = {f32, f64, f16, bf16, i64, i32, u8, b, scalar};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(sd[i].second.scalar_type(), expected[i].scalar_type()) << sd[i].first;
    EXPECT_TRUE(torch::equal(sd[i].second, expected[i])) << sd[i].first;
  }
  EXPECT_EQ(sd[8].second.dim(), 0);
}

std::string read_error(const std::string& path) {
  try {
    read_safetensors(path);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, MalformedFilesNameTheFileAndTheTensor) {
  testing::TempDir dir;
  const std::vector<RawTensor> one = {{"conv.weight", "F32", {2, 2}, bytes_of(torch::ones({2, 2}))}};

  std::string path = write_safetensors(dir, one, nlohmann::ordered_json::object(), /*truncate=*/4);
  std::string e = read_error(path);
  EXPECT_NE(e.find(path + ": tensor 'conv.weight' has data_offsets [0, 16] outside the 12 data bytes"),
            std::string::npos)
      << e;

  path = write_safetensors(dir, one, {{"conv.weight", {{"dtype", "F8_E4M3"}}}});
  e = read_error(path);
  EXPECT_NE(e.find("tensor 'conv.weight' has dtype \"F8_E4M3\", which is not supported"), std::string::npos) << e;

  path = write_safetensors(dir, one, {{"conv.weight", {{"shape", {3, 2}}}}});
  e = read_error(path);
  EXPECT_NE(e.find("tensor 'conv.weight' spans 16 bytes, but F32 [3,2] needs 24"), std::string::npos) << e;

  path = write_safetensors(dir, one, {{"conv.weight", {{"data_offsets", {16, 0}}}}});
  e = read_error(path);
  EXPECT_NE(e.find("tensor 'conv.weight' has data_offsets [16, 0]: the end comes before the begin"), std::string::npos)
      << e;

  path = write_safetensors(dir, one, {{"conv.weight", {{"data_offsets", nullptr}}}});
  e = read_error(path);
  EXPECT_NE(e.find("tensor 'conv.weight' needs dtype, shape and data_offsets"), std::string::npos) << e;

  std::string broken(8, '\0');
  broken[0] = 6;
  path = dir.write("broken.safetensors", broken + "{\"a\":}");
  e = read_error(path);
  EXPECT_NE(e.find(path + ": safetensors header is not valid JSON"), std::string::npos) << e;

  path = dir.write("junk.safetensors", "not a weights file at all");
  EXPECT_FALSE(is_safetensors_file(path));
  EXPECT_NE(read_error(path).find(path + ": not a safetensors file"), std::string::npos);
  try {
    read_state_dict(path);
    FAIL();
  } catch (const IoError& err) {
    EXPECT_NE(std::string(err.what()).find("not a torch.save file (no zip signature) nor a .safetensors file"),
              std::string::npos)
        << err.what();
  }
}

}  // namespace
}  // namespace deeplab::weights
