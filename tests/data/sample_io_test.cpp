// A cut-short JPEG or PNG is an error naming the file, though decoders fill
// the missing rows with grey and call it a success; a whole file (with a
// trailer after the JPEG's end marker) reads.

#include "deeplab/data/sample_io.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

std::string encoded(const std::string& ext) {
  cv::Mat image(48, 64, CV_8UC3);
  cv::randu(image, 0, 255);
  std::vector<uchar> bytes;
  cv::imencode(ext, image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

TEST(SampleIo, WholeImagesAreNotCutShort) {
  EXPECT_EQ(image_cut_short(encoded(".jpg")), "");
  EXPECT_EQ(image_cut_short(encoded(".png")), "");
  EXPECT_EQ(image_cut_short(encoded(".jpg") + std::string(100, '\0')), "") << "padding after the end marker";
  EXPECT_EQ(image_cut_short("BM not a format we check"), "");
}

TEST(SampleIo, CutShortImagesAreNamedWithTheReason) {
  const std::string jpg = encoded(".jpg"), png = encoded(".png");
  for (const double fraction : {0.33, 0.9}) {
    EXPECT_NE(image_cut_short(jpg.substr(0, static_cast<size_t>(jpg.size() * fraction))).find("end-of-image marker"),
              std::string::npos);
    EXPECT_NE(image_cut_short(png.substr(0, static_cast<size_t>(png.size() * fraction))).find("IEND"),
              std::string::npos);
  }
  EXPECT_NE(image_cut_short(jpg.substr(0, jpg.size() - 2)), "") << "only the end marker missing";
}

TEST(SampleIo, ReadingACutShortImageThrowsNamingIt) {
  testing::TempDir dir;
  const std::string whole = encoded(".jpg");
  const std::string path = dir.write("cut.jpg", whole.substr(0, whole.size() / 3));
  try {
    read_rgb_image(path);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": the JPEG ends before its end-of-image marker"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(read_rgb_image(dir.write("whole.jpg", whole)).size(), cv::Size(64, 48));
}

// Only the formats photos come in are decoded: OpenCV would hand anything
// else to every codec it has (GDCM's DICOM reader aborts on some bytes;
// fuzz/regressions/image/gdcm_assertion).
TEST(SampleIo, OnlyPhotoFormatsAreDecodedAndAnEmptyFileIsNamed) {
  testing::TempDir dir;
  for (const char* ext : {".jpg", ".png", ".bmp", ".tiff", ".webp", ".ppm"}) {
    EXPECT_EQ(read_rgb_image(dir.write(std::string("photo") + ext, encoded(ext))).size(), cv::Size(64, 48)) << ext;
  }
  const std::string dicom = dir.write("scan.dcm", std::string(128, '\0') + "DICM" + std::string(64, 'x'));
  const std::string empty = dir.write("empty.jpg", "");
  for (const auto& [path, reason] :
       {std::pair{dicom, "not a JPEG, PNG, BMP, TIFF, WebP or PPM/PGM file"}, std::pair{empty, "the file is empty"}}) {
    try {
      read_rgb_image(path);
      ADD_FAILURE() << path << " was decoded";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": " + reason), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace deeplab::data
