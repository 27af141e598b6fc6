// VideoReader: frames come back in order as RGB with the container's rate and
// size; a video with no frames, or one that ends before the frame count its
// container declares, is an IoError naming the file and both counts.

#include "deeplab/data/video_reader.h"

#include <gtest/gtest.h>
#include <opencv2/videoio.hpp>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

// `count` lossless (FFV1) frames; frame i is the colour (10 i, 0, 200) in RGB,
// or noise (large frames, so that half the file holds half of them).
void write_clip(const std::string& path, int count, bool noise = false) {
  const cv::Size size = noise ? cv::Size(160, 120) : cv::Size(32, 24);
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('F', 'F', 'V', '1'), 12, size, true);
  ASSERT_TRUE(writer.isOpened()) << "OpenCV without FFmpeg's FFV1 encoder";
  cv::RNG rng(count);
  for (int i = 0; i < count; ++i) {
    cv::Mat frame(size, CV_8UC3, cv::Scalar(200, 0, 10 * i));  // BGR
    if (noise) rng.fill(frame, cv::RNG::UNIFORM, 0, 256);
    writer.write(frame);
  }
}

TEST(VideoReader, ReadsEveryFrameInOrderAsRgbWithRateAndSize) {
  testing::TempDir dir;
  const std::string clip = dir.file("clip.avi");
  write_clip(clip, 5);
  VideoReader reader(clip);
  EXPECT_DOUBLE_EQ(reader.fps(), 12);
  EXPECT_EQ(reader.frame_size(), cv::Size(32, 24));
  EXPECT_EQ(reader.declared_frames(), 5);
  std::vector<cv::Mat> frames = reader.read(3);
  const std::vector<cv::Mat> rest = reader.read(3);
  ASSERT_EQ(frames.size(), 3u);
  ASSERT_EQ(rest.size(), 2u);
  frames.insert(frames.end(), rest.begin(), rest.end());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(frames[i].at<cv::Vec3b>(5, 5), cv::Vec3b(10 * i, 0, 200)) << "frame " << i;
  }
  EXPECT_TRUE(reader.read(3).empty());
  EXPECT_EQ(reader.frames_read(), 5);
  EXPECT_NO_THROW(reader.check_complete());

  VideoReader skipping(clip);
  EXPECT_EQ(skipping.skip(2), 2);
  EXPECT_EQ(skipping.read(1).at(0).at<cv::Vec3b>(5, 5), cv::Vec3b(20, 0, 200)) << "the third frame";
  EXPECT_EQ(skipping.skip(10), 2);
  EXPECT_EQ(skipping.frames_read(), 5);
}

TEST(VideoReader, NoFramesAndCutShortVideosAreErrorsWithBothCounts) {
  testing::TempDir dir;
  const std::string empty = dir.file("empty.avi");
  write_clip(empty, 0);
  try {
    VideoReader reader(empty);
    while (!reader.read(4).empty()) {
    }
    reader.check_complete();
    FAIL() << "a video without frames was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(empty + ": the video has no frames"), std::string::npos) << e.what();
  }

  const std::string clip = dir.file("half.avi");
  write_clip(clip, 8, /*noise=*/true);
  const std::string bytes = core::read_file(clip);
  core::write_file_atomic(clip, bytes.substr(0, bytes.size() / 2));
  VideoReader reader(clip);
  while (!reader.read(4).empty()) {
  }
  ASSERT_GT(reader.frames_read(), 0);
  ASSERT_LT(reader.frames_read(), 8);
  try {
    reader.check_complete();
    FAIL() << "a video cut in half was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("ends after " + std::to_string(reader.frames_read()) + " of the 8 frames"),
              std::string::npos)
        << e.what();
  }
}

TEST(VideoReader, AFileThatIsNoVideoIsAnErrorNamingIt) {
  testing::TempDir dir;
  const std::string text = dir.write("notes.avi", "not a video");
  try {
    VideoReader reader(text);
    while (!reader.read(4).empty()) {
    }
    reader.check_complete();
    FAIL() << "text was read as a video";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::data
