// PNG reading/writing: palette indices stay indices, 16-bit values survive,
// RGB ids decode as R + 256 G + 256^2 B, and errors name the file.

#include "deeplab/data/png_io.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "deeplab/core/error.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;

TEST(PngIo, PaletteRoundTripKeepsIndicesAndColours) {
  TempDir dir;
  PngImage image = PngImage::indexed(5, 3, {{0, 0, 0}, {128, 0, 0}, {0, 128, 0}});
  for (size_t i = 0; i < image.data8.size(); ++i) image.data8[i] = static_cast<uint8_t>(i % 3);
  write_png(dir.file("p.png"), image);
  const PngImage back = read_png(dir.file("p.png"));
  EXPECT_EQ(back.width, 5);
  EXPECT_EQ(back.height, 3);
  EXPECT_EQ(back.channels, 1);
  EXPECT_EQ(back.bit_depth, 8);
  ASSERT_TRUE(back.is_palette());
  EXPECT_EQ(back.palette.size(), 3u);
  EXPECT_EQ(back.palette[1], (std::array<uint8_t, 3>{128, 0, 0}));
  EXPECT_EQ(back.data8, image.data8);
}

TEST(PngIo, Gray8And16RoundTrip) {
  TempDir dir;
  PngImage g8 = PngImage::gray(4, 2, 8);
  g8.data8 = {0, 1, 2, 255, 7, 33, 19, 254};
  write_png(dir.file("g8.png"), g8);
  const PngImage b8 = read_png(dir.file("g8.png"));
  EXPECT_FALSE(b8.is_palette());
  EXPECT_EQ(b8.data8, g8.data8);

  PngImage g16 = PngImage::gray(3, 2, 16);
  g16.data16 = {0, 26001, 26002, 24000, 65535, 7};  // Cityscapes instanceIds use values above 255
  write_png(dir.file("g16.png"), g16);
  const PngImage b16 = read_png(dir.file("g16.png"));
  EXPECT_EQ(b16.bit_depth, 16);
  EXPECT_EQ(b16.data16, g16.data16);
  EXPECT_EQ(b16.sample(1), 26001u);
  EXPECT_EQ(png_to_ids(b16), (std::vector<uint32_t>{0, 26001, 26002, 24000, 65535, 7}));
}

TEST(PngIo, RgbIdsRoundTrip) {
  TempDir dir;
  const std::vector<uint32_t> ids = {0, 1, 256, 65536, 3937500, 16777215};
  write_png(dir.file("ids.png"), ids_to_rgb(ids, 3, 2));
  const PngImage back = read_png(dir.file("ids.png"));
  EXPECT_EQ(back.channels, 3);
  // 3937500 = 0x3C14DC: R 0xDC, G 0x14, B 0x3C
  EXPECT_EQ(back.data8[12], 0xDC);
  EXPECT_EQ(back.data8[13], 0x14);
  EXPECT_EQ(back.data8[14], 0x3C);
  EXPECT_EQ(png_to_ids(back), ids);
}

TEST(PngIo, Labels8RejectsWideValuesNamingFileAndPixel) {
  PngImage g16 = PngImage::gray(2, 1, 16);
  g16.data16 = {3, 300};
  try {
    png_to_labels8(g16, "lab.png");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("lab.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
  }
  g16.data16 = {3, 200};
  EXPECT_EQ(png_to_labels8(g16), (std::vector<uint8_t>{3, 200}));
}

TEST(PngIo, ErrorsNameTheFile) {
  TempDir dir;
  const std::string missing = dir.file("missing.png");
  try {
    read_png(missing);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  const std::string text = dir.write("text.png", "hello, not a png");
  try {
    read_png(text);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
  // A valid header followed by a truncated stream fails in libpng's decoder.
  PngImage big = PngImage::gray(64, 64, 8);
  for (size_t i = 0; i < big.data8.size(); ++i) big.data8[i] = static_cast<uint8_t>(i * 7919 % 251);
  write_png(dir.file("full.png"), big);
  std::ifstream in(dir.file("full.png"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = dir.write("cut.png", bytes.substr(0, bytes.size() / 2));
  try {
    read_png(cut);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_png(dir.file("bad.png"), PngImage{}), IoError);
}

TEST(PngIo, ReadsRealVocPaletteLabelsAsIndices) {
  const std::string samples = testing::samples_dir();
  if (samples.empty()) GTEST_SKIP() << "../shared/samples not found (set DEEPLAB_SAMPLES)";
  const PngImage image = read_png(samples + "/voc2012/SegmentationClass/2007_000063.png");
  EXPECT_EQ(image.width, 500);
  EXPECT_EQ(image.height, 375);
  ASSERT_TRUE(image.is_palette());
  EXPECT_EQ(image.palette[9], (std::array<uint8_t, 3>{192, 0, 0}));  // VOC colour map: chair
  std::map<int, int> counts;
  for (uint8_t v : image.data8) ++counts[v];
  // The counts given in ../shared/samples/README.md.
  EXPECT_EQ(counts, (std::map<int, int>{{0, 72224}, {9, 78930}, {12, 27632}, {255, 8714}}));
}

TEST(PngIo, ReadsRealCocoPanopticIds) {
  const std::string samples = testing::samples_dir();
  if (samples.empty()) GTEST_SKIP() << "../shared/samples not found (set DEEPLAB_SAMPLES)";
  const std::string path = samples + "/coco_panoptic/panoptic_examples/000000142238.png";
  const PngImage image = read_png(path);
  EXPECT_EQ(image.width, 640);
  EXPECT_EQ(image.height, 427);
  std::map<uint32_t, int> counts;
  for (uint32_t id : png_to_ids(image, path)) ++counts[id];
  // Areas from panoptic_examples.json: person 3937500 has 3528 px, the crowd 3153362 24295 px.
  EXPECT_EQ(counts[3937500], 3528);
  EXPECT_EQ(counts[3153362], 24295);
  EXPECT_EQ(counts.size(), 19u);  // 18 segments + VOID
}

}  // namespace
}  // namespace deeplab::data
