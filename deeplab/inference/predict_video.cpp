#include "deeplab/inference/predict_video.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <future>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/core/progress.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/loader.h"
#include "deeplab/data/video_reader.h"
#include "deeplab/inference/label_maps.h"

namespace deeplab::inference {
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
  // OpenCV's writer reports no failed write, and the frame count in an AVI's
  // header is rewritten at the start of the file even when the disk filled
  // up after it: each output is demuxed again, and one that does not hold
  // every frame is an error.
  void check_complete(int64_t frames) const {
    for (const auto& [partial, final_path] : renames) {
      int64_t held = 0;
      try {
        data::VideoReader reader(partial);
        held = reader.skip(frames + 1);
      } catch (const IoError&) {
      }
      if (held != frames) {
        throw IoError("cannot write '" + final_path + "': the video holds " + std::to_string(held) + " of its " +
                      std::to_string(frames) + " frames (is the disk full?)");
      }
    }
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

}  // namespace

VideoReport predict_video(const Predictor& predictor, const data::InputFile& video, const PredictFilesOptions& o,
                          c10::Device device) {
  data::VideoReader reader(video.path);
  VideoReport report;
  report.fps = reader.fps();
  report.width = reader.frame_size().width;
  report.height = reader.frame_size().height;
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
  core::ProgressBar progress("predict " + video.name, std::max<int64_t>(reader.declared_frames(), 1), "frame", 0,
                             o.progress);
  // Frames share one size, so up to --batch-size of them run as one batch;
  // the next batch is decoded, and the previous one colourised and written,
  // on other threads while the model runs.
  const int batch_size = std::max(1, o.batch_size);
  std::future<void> writing;
  const auto read_batch = [&reader, batch_size] { return reader.read(batch_size); };
  std::future<std::vector<cv::Mat>> next = std::async(std::launch::async, read_batch);
  for (std::vector<cv::Mat> frames = next.get(); !frames.empty(); frames = next.get()) {
    next = std::async(std::launch::async, read_batch);
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
  reader.check_complete();
  out.color.release();
  out.overlay.release();
  partial.check_complete(report.frames);
  partial.commit();
  report.seconds = progress.elapsed();
  return report;
}

}  // namespace deeplab::inference
