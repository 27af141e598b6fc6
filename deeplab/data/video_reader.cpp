#include "deeplab/data/video_reader.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "deeplab/core/error.h"

namespace deeplab::data {

VideoReader::VideoReader(const std::string& path) : path_(path) {
  try {
    // FFmpeg only: the default tries every backend (GStreamer, cameras
    // through libusb ...) on each file, slower and with nothing to gain.
    capture_.open(path, cv::CAP_FFMPEG);
  } catch (const cv::Exception& e) {
    throw IoError(path + ": cannot open the video: " + e.msg);
  }
  if (!capture_.isOpened()) throw IoError(path + ": cannot open the video (not a video OpenCV's FFmpeg reads)");
  const double fps = capture_.get(cv::CAP_PROP_FPS);
  if (std::isfinite(fps) && fps > 0) fps_ = fps;  // else: a container without a rate
  size_ = cv::Size(static_cast<int>(capture_.get(cv::CAP_PROP_FRAME_WIDTH)),
                   static_cast<int>(capture_.get(cv::CAP_PROP_FRAME_HEIGHT)));
  const double declared = capture_.get(cv::CAP_PROP_FRAME_COUNT);
  // Damaged headers declare anything: a negative, NaN or absurd count is "none".
  if (std::isfinite(declared) && declared > 0 && declared < 1e12) declared_ = static_cast<int64_t>(declared);
}

std::vector<cv::Mat> VideoReader::read(int count) {
  std::vector<cv::Mat> frames;
  try {
    for (cv::Mat bgr; static_cast<int>(frames.size()) < count && capture_.read(bgr);) {
      if (bgr.empty() || bgr.type() != CV_8UC3) break;  // a decoder that gives up mid-stream
      cv::Mat rgb;
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      frames.push_back(rgb);
    }
  } catch (const cv::Exception& e) {
    throw IoError(path_ + ": cannot decode frame " + std::to_string(read_ + static_cast<int64_t>(frames.size()) + 1) +
                  ": " + e.msg);
  }
  read_ += static_cast<int64_t>(frames.size());
  return frames;
}

int64_t VideoReader::skip(int64_t count) {
  int64_t skipped = 0;
  try {
    while (skipped < count && capture_.grab()) ++skipped;
  } catch (const cv::Exception& e) {
    throw IoError(path_ + ": cannot decode frame " + std::to_string(read_ + skipped + 1) + ": " + e.msg);
  }
  read_ += skipped;
  return skipped;
}

void VideoReader::check_complete() const {
  if (read_ == 0) throw IoError(path_ + ": the video has no frames (empty or not decodable)");
  if (declared_ > 0 && read_ < declared_) {
    throw IoError(path_ + ": the video ends after " + std::to_string(read_) + " of the " + std::to_string(declared_) +
                  " frames its container declares (cut short?)");
  }
}

}  // namespace deeplab::data
