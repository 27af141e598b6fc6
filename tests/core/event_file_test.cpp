// TensorBoard event files by hand: the CRC-32C and TFRecord framing against
// published check values, and the PNG size read for image summaries.  That
// TensorBoard itself reads what we write is tests/train/tensorboard_hook_test.cpp.

#include "deeplab/core/event_file.h"

#include <gtest/gtest.h>

#include <cstring>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::core {
namespace {

uint32_t le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  return v;
}

TEST(EventFile, Crc32cMatchesTheCheckValues) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC catalogue's check value for CRC-32C
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
  const uint32_t crc = crc32c("123456789");
  EXPECT_EQ(masked_crc32c("123456789"), ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST(EventFile, RecordsAreLengthCrcDataCrc) {
  const std::string data = "hello, tensorboard";
  const std::string record = tfrecord(data);
  ASSERT_EQ(record.size(), 8 + 4 + data.size() + 4);
  EXPECT_EQ(le32(record, 0), data.size());
  EXPECT_EQ(le32(record, 4), 0u) << "the high half of the 64-bit length";
}

TEST(EventFile, FramingChecksumsCoverLengthAndData) {
  const std::string data = "abc";
  const std::string record = tfrecord(data);
  EXPECT_EQ(le32(record, 8), masked_crc32c(record.substr(0, 8)));
  EXPECT_EQ(record.substr(12, 3), data);
  EXPECT_EQ(le32(record, 15), masked_crc32c(data));
}

TEST(EventFile, ImageSummariesRefuseWhatIsNotAPng) {
  EXPECT_THROW(event_proto::image(0, 1, "x", "GIF89a not a png at all"), DataError);
}

TEST(EventFile, WriterStartsWithTheFileVersionAndNamesFilesAsTensorFlowDoes) {
  testing::TempDir dir;
  std::string first, second;
  {
    EventFileWriter a(dir.path());
    EventFileWriter b(dir.path());  // the same second: a second file, not the same one
    first = a.path();
    second = b.path();
    a.write(event_proto::scalar(1.0, 3, "loss", 0.5f));
  }
  EXPECT_NE(first, second);
  EXPECT_NE(first.find("/events.out.tfevents."), std::string::npos) << first;
  const std::string bytes = read_file(first);
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_NE(bytes.find("brain.Event:2"), std::string::npos);
  EXPECT_NE(bytes.find("loss"), std::string::npos);
}

}  // namespace
}  // namespace deeplab::core
