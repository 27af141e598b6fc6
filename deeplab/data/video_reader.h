#pragma once
// Reading a video's frames through OpenCV's FFmpeg backend, with the checks
// that make a damaged video an error rather than a short success: no frames
// at all, or fewer frames than the container declares.

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace deeplab::data {

class VideoReader {
 public:
  /// Opens `path`; IoError naming it when OpenCV cannot.
  explicit VideoReader(const std::string& path);

  const std::string& path() const { return path_; }
  /// Frames per second, 25 for containers that state no rate.
  double fps() const { return fps_; }
  cv::Size frame_size() const { return size_; }
  /// The frame count the container declares; 0 when it declares none.
  int64_t declared_frames() const { return declared_; }
  int64_t frames_read() const { return read_; }

  /// Up to `count` more frames as RGB CV_8UC3; fewer (or none) at the end.
  std::vector<cv::Mat> read(int count);

  /// Skips up to `count` frames without converting them; how many it skipped.
  int64_t skip(int64_t count);

  /// IoError when the video yielded no frame, or ended before the frame
  /// count its container declares (both counts in the message).
  void check_complete() const;

 private:
  std::string path_;
  cv::VideoCapture capture_;
  double fps_ = 25;
  cv::Size size_;
  int64_t declared_ = 0;
  int64_t read_ = 0;
};

}  // namespace deeplab::data
