#include "deeplab/inference/predict_files.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <deque>
#include <filesystem>
#include <future>
#include <optional>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/progress.h"
#include "deeplab/data/image_writer.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/loader.h"
#include "deeplab/data/sample_io.h"
#include "deeplab/inference/crf_pool.h"
#include "deeplab/inference/label_maps.h"
#include "deeplab/inference/panoptic_writer.h"
#include "deeplab/inference/same_size_batcher.h"
#include "deeplab/models/outputs.h"
#include "deeplab/postprocess/panoptic.h"

namespace deeplab::inference {
namespace fs = std::filesystem;
namespace {

// Writes are at most this many images behind the model.
constexpr size_t kPendingWrites = 4;

data::Loader make_file_loader(const std::shared_ptr<const data::Dataset>& dataset, const PredictFilesOptions& o) {
  data::TransformOptions transform;
  transform.train = false;
  transform.ignore_label = dataset->ignore_label();
  transform.eval_pad_multiple = 0;  // the predictor pads and crops back
  data::LoaderOptions loader;
  loader.batch_size = 1;  // photos differ in size
  loader.workers = o.workers;
  loader.drop_last = false;
  loader.train = false;
  loader.skip_bad_samples = true;  // reported below, by name
  loader.normalization = o.normalization;
  return data::Loader(dataset, data::Transform(transform), loader);
}

void write_outputs(const cv::Mat& image, const cv::Mat& labels, const std::string& name, const PredictFilesOptions& o) {
  const fs::path base = fs::path(o.out_dir) / name;
  fs::create_directories(base.parent_path());
  data::write_palette_label(labels, o.descriptor.palette, base.string() + ".png");
  if (!o.color && !o.overlay) return;
  const cv::Mat colours = data::colorize_label(labels, o.descriptor);
  if (o.color) data::write_rgb_image(colours, base.string() + "_color.png");
  if (o.overlay) data::write_rgb_image(blend_overlay(image, colours, o.overlay_alpha), base.string() + "_overlay.png");
}

// "path: why" for each file the loader skipped (read again for the reason).
std::vector<std::string> unreadable_files(const data::ImageFilesDataset& dataset, const std::set<std::string>& done) {
  std::vector<std::string> out;
  for (size_t i = 0; i < dataset.size(); ++i) {
    if (done.count(dataset.id(i))) continue;
    try {
      data::read_rgb_image(dataset.file(i).path);
      out.push_back(dataset.file(i).path + ": skipped");
    } catch (const std::exception& e) {
      out.push_back(e.what());
    }
  }
  return out;
}

}  // namespace

cv::Mat blend_overlay(const cv::Mat& image, const cv::Mat& colours, double alpha) {
  cv::Mat out;
  cv::addWeighted(image, 1.0 - alpha, colours, alpha, 0.0, out);
  return out;
}

PredictReport predict_image_files(const Predictor& predictor, const std::vector<data::InputFile>& files,
                                  const PredictFilesOptions& options, c10::Device device) {
  if (options.descriptor.palette.empty()) throw ConfigError("predict: the dataset descriptor has no palette");
  torch::NoGradGuard no_grad;
  auto dataset = std::make_shared<data::ImageFilesDataset>(files, options.descriptor.num_classes(),
                                                           options.descriptor.ignore_label);
  data::Loader loader = make_file_loader(dataset, options);
  loader.start_epoch(0);
  fs::create_directories(options.out_dir);
  PredictReport report;
  std::set<std::string> done;
  std::deque<std::future<void>> pending;
  core::ProgressBar progress("predict", static_cast<int64_t>(files.size()), "img", 0, options.progress);
  progress.update(0);
  std::optional<PanopticWriter> panoptic_writer;
  if (options.panoptic) {
    PanopticWriterOptions w;
    w.pred_dir = options.out_dir;
    w.descriptor = options.descriptor;
    w.categories = options.panoptic->categories;
    panoptic_writer.emplace(std::move(w));
  }
  // Writes one batch's label maps (and panoptic segments) and counts them.
  auto write_batch = [&](const data::Batch& batch, const at::Tensor& labels,
                         const std::vector<postprocess::PanopticPrediction>& panoptic) {
    for (int64_t i = 0; i < labels.size(0); ++i) {
      const std::string name = batch.ids[static_cast<size_t>(i)];
      cv::Mat image = data::to_rgb8(batch.images[i], options.normalization);
      cv::Mat label = label_map_to_mat(labels[i], "prediction", name);
      if (panoptic_writer) {
        fs::create_directories((fs::path(options.out_dir) / "panoptic" / name).parent_path());
        const postprocess::PanopticSegmentation segments = postprocess::predicted_segmentation(
            panoptic[static_cast<size_t>(i)].panoptic, options.panoptic->postprocess.label_divisor);
        panoptic_writer->write(name, image, label, postprocess::PanopticSegmentation{}, segments);
      }
      pending.push_back(std::async(std::launch::async,
                                   [image, label, name, &options] { write_outputs(image, label, name, options); }));
      done.insert(name);
    }
    while (pending.size() > kPendingWrites * static_cast<size_t>(std::max(1, options.batch_size))) {
      pending.front().get();  // rethrows a failed write
      pending.pop_front();
    }
    progress.update(static_cast<int64_t>(done.size() + loader.skipped()));
  };
  // A semantic model's CRFs run on a pool of all cores beside the next
  // images' forward, at most one batch per worker in flight, written in order.
  std::optional<CrfPool> crf_pool;
  if (options.crf && !options.panoptic) crf_pool.emplace(*options.crf, options.normalization, at::get_num_threads());
  std::deque<std::pair<data::Batch, PendingCrf>> in_flight;
  auto finish_oldest = [&] {
    auto& [batch, crf] = in_flight.front();
    write_batch(batch, crf.get().argmax(1), {});
    in_flight.pop_front();
  };
  auto run = [&](const data::Batch& batch) {
    if (options.panoptic) {
      const auto panoptic =
          predict_panoptic(predictor, batch, device, options.panoptic->postprocess, options.crf, options.normalization);
      std::vector<at::Tensor> semantic;
      for (const auto& p : panoptic) semantic.push_back(p.semantic);
      write_batch(batch, torch::stack(semantic).cpu(), panoptic);
    } else if (crf_pool) {
      const at::Tensor probs = predict_probabilities(predictor, batch, device, std::nullopt, options.normalization);
      in_flight.emplace_back(batch, crf_pool->refine(batch, probs));
      while (static_cast<int>(in_flight.size()) > crf_pool->threads()) finish_oldest();
    } else {
      write_batch(batch, predict_label_maps(predictor, batch, device, std::nullopt, options.normalization), {});
    }
  };
  SameSizeBatcher batcher(options.batch_size);
  while (auto batch = loader.next()) {
    if (auto ready = batcher.add(std::move(*batch))) run(*ready);
  }
  if (auto rest = batcher.flush()) run(*rest);
  while (!in_flight.empty()) finish_oldest();
  for (auto& write : pending) write.get();
  if (panoptic_writer) panoptic_writer->finish();
  progress.finish();
  report.written = static_cast<int64_t>(done.size());
  report.unreadable = unreadable_files(*dataset, done);
  report.seconds = progress.elapsed();
  return report;
}

}  // namespace deeplab::inference
