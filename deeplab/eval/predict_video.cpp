#include "deeplab/eval/predict_video.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <future>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/core/progress.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/loader.h"
#include "deeplab/eval/label_maps.h"

namespace deeplab::eval {
namespace fs = std::filesystem;
namespace {

// (rgb / 255 - mean) / std in float, operation for operation as the loader's
// lookup table computes it, so a frame and the same picture read as an image
// give the same input.
at::Tensor normalised_frame(const cv::Mat& rgb, const data::Normalization& n) {
  const at::Tensor pixels = at::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, at::kByte).permute({2, 0, 1});
  const at::Tensor mean = at::tensor(at::ArrayRef<float>(n.mean.data(), 3)).view({3, 1, 1});
  const at::Tensor std = at::tensor(at::ArrayRef<float>(n.std.data(), 3)).view({3, 1, 1});
  return ((pixels.to(at::kFloat) / 255.0f - mean) / std).unsqueeze(0).contiguous();
}

cv::VideoWriter open_writer(const std::string& path, double fps, cv::Size size) {
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('F', 'F', 'V', '1'), fps, size, true);
  if (!writer.isOpened()) throw IoError(path + ": cannot open for writing (OpenCV's FFmpeg backend without FFV1?)");
  return writer;
}

// Up to `count` more frames as RGB; fewer at the end of the video.
std::vector<cv::Mat> read_frames(cv::VideoCapture& capture, int count) {
  std::vector<cv::Mat> frames;
  for (cv::Mat bgr; static_cast<int>(frames.size()) < count && capture.read(bgr);) {
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    frames.push_back(rgb);
  }
  return frames;
}

void write_frame(cv::VideoWriter& writer, const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  writer.write(bgr);
}

struct VideoOutputs {
  cv::VideoWriter color, overlay;  // overlay: opened only with --overlay
};

// Colourises one batch's label maps and appends them (and the overlays) to the videos, in order.
void write_batch(VideoOutputs& out, const std::vector<cv::Mat>& frames, const at::Tensor& labels,
                 const PredictFilesOptions& o, const std::string& name) {
  for (size_t f = 0; f < frames.size(); ++f) {
    const cv::Mat label = label_map_to_mat(labels[static_cast<int64_t>(f)], "prediction", name);
    const cv::Mat colours = data::colorize_label(label, o.descriptor);
    write_frame(out.color, colours);
    if (o.overlay) write_frame(out.overlay, blend_overlay(frames[f], colours, o.overlay_alpha));
  }
}

}  // namespace

namespace {

// The outputs are written under ".partial" names and renamed once the whole
// video has been read: a video that fails leaves nothing of itself behind.
struct PartialOutputs {
  std::vector<std::pair<std::string, std::string>> renames;  // partial -> final
  bool done = false;
  std::string add(const std::string& final_path) {
    const std::string partial = fs::path(final_path).replace_extension(".partial.avi").string();
    renames.emplace_back(partial, final_path);
    return partial;
  }
  void commit() {
    for (const auto& [partial, final_path] : renames) fs::rename(partial, final_path);
    done = true;
  }
  ~PartialOutputs() {
    if (done) return;
    std::error_code ignored;
    for (const auto& [partial, final_path] : renames) fs::remove(partial, ignored);
  }
};

// IoError for a video that yielded no frame, or fewer than its container declares.
void check_frame_count(const std::string& path, int64_t read, int64_t declared) {
  if (read == 0) throw IoError(path + ": the video has no frames (empty or not decodable)");
  if (declared > 0 && read < declared) {
    throw IoError(path + ": the video ends after " + std::to_string(read) + " of the " + std::to_string(declared) +
                  " frames its container declares (cut short?)");
  }
}

}  // namespace

VideoReport predict_video(const Predictor& predictor, const data::InputFile& video, const PredictFilesOptions& o,
                          c10::Device device) {
  cv::VideoCapture capture(video.path);
  if (!capture.isOpened()) throw IoError(video.path + ": cannot open the video (not a video OpenCV's FFmpeg reads)");
  VideoReport report;
  report.fps = capture.get(cv::CAP_PROP_FPS);
  report.width = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH));
  report.height = static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT));
  if (report.fps <= 0) report.fps = 25;  // containers without a rate
  const fs::path base = fs::path(o.out_dir) / video.name;
  fs::create_directories(base.parent_path());
  PartialOutputs partial;
  report.color_path = base.string() + "_color.avi";
  const cv::Size size(report.width, report.height);
  VideoOutputs out;
  out.color = open_writer(partial.add(report.color_path), report.fps, size);
  if (o.overlay) {
    report.overlay_path = base.string() + "_overlay.avi";
    out.overlay = open_writer(partial.add(report.overlay_path), report.fps, size);
  }
  torch::NoGradGuard no_grad;
  const auto expected = static_cast<int64_t>(capture.get(cv::CAP_PROP_FRAME_COUNT));
  core::ProgressBar progress("predict " + video.name, std::max<int64_t>(expected, 1), "frame", 0, o.progress);
  // Frames share one size, so up to --batch-size of them run as one batch;
  // the next batch is decoded, and the previous one colourised and written,
  // on other threads while the model runs.
  const int batch_size = std::max(1, o.batch_size);
  std::future<void> writing;
  std::future<std::vector<cv::Mat>> next = std::async(std::launch::async, read_frames, std::ref(capture), batch_size);
  for (std::vector<cv::Mat> frames = next.get(); !frames.empty(); frames = next.get()) {
    next = std::async(std::launch::async, read_frames, std::ref(capture), batch_size);
    data::Batch batch;
    std::vector<at::Tensor> inputs;
    for (const cv::Mat& rgb : frames) inputs.push_back(normalised_frame(rgb, o.normalization));
    batch.images = at::cat(inputs);
    const at::Tensor labels = predict_label_maps(predictor, batch, device, o.crf, o.normalization);
    if (writing.valid()) writing.get();  // the previous batch is out (and its errors surface here)
    report.frames += static_cast<int64_t>(frames.size());
    writing = std::async(std::launch::async, [&out, &o, &video, labels, frames = std::move(frames)] {
      write_batch(out, frames, labels, o, video.name);
    });
    progress.update(report.frames);
  }
  if (writing.valid()) writing.get();
  progress.finish();
  check_frame_count(video.path, report.frames, expected);
  out.color.release();
  out.overlay.release();
  partial.commit();
  report.seconds = progress.elapsed();
  return report;
}

}  // namespace deeplab::eval
