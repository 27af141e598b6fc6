#include "deeplab/data/inspect.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/image_writer.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/loader.h"

namespace deeplab::data {
namespace fs = std::filesystem;

DataStats compute_stats(const DataConfig& config, uint64_t seed, const std::string& split) {
  const DatasetDescriptor descriptor = load_config_descriptor(config);
  LoaderOptions options = LoaderOptions::from_config(config, false, seed);
  options.batch_size = 1;  // whole images of different sizes: batching would add padding pixels
  Loader loader(make_dataset(config, split, DatasetUse::kTraining),
                Transform(TransformOptions::from_config(config, false)), options);
  DataStats stats;
  stats.split = split;
  stats.classes = descriptor.classes;
  stats.class_pixels.assign(descriptor.classes.size(), 0);
  const int64_t ignore = descriptor.ignore_label;
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    stats.images += batch->ids.size();
    const at::Tensor counts = at::bincount(batch->labels.flatten(), {}, 256);
    const int64_t* c = counts.data_ptr<int64_t>();
    for (size_t k = 0; k < stats.class_pixels.size(); ++k) stats.class_pixels[k] += c[k];
    stats.void_pixels += c[ignore];
  }
  stats.skipped = loader.skipped();
  return stats;
}

std::string stats_to_text(const DataStats& s) {
  std::ostringstream out;
  out << "split: " << s.split << "\nimages: " << s.images << "\n";
  if (s.skipped) out << "skipped bad samples: " << s.skipped << "\n";
  int64_t total = s.void_pixels;
  for (int64_t n : s.class_pixels) total += n;
  out << "id  class                 pixels        share\n";
  auto row = [&](const std::string& id, const std::string& name, int64_t n) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%-3s %-20s %12lld %10.4f%%\n", id.c_str(), name.c_str(), static_cast<long long>(n),
                  total ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0.0);
    out << buf;
  };
  for (size_t k = 0; k < s.classes.size(); ++k) row(std::to_string(k), s.classes[k], s.class_pixels[k]);
  row("-", "void (ignore)", s.void_pixels);
  return out.str();
}

namespace {
std::string json_string(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string stats_to_json(const DataStats& s) {
  std::ostringstream out;
  out << "{\"split\": " << json_string(s.split) << ", \"images\": " << s.images << ", \"skipped\": " << s.skipped
      << ", \"void_pixels\": " << s.void_pixels << ", \"classes\": [";
  for (size_t k = 0; k < s.classes.size(); ++k) {
    out << (k ? ", " : "") << "{\"id\": " << k << ", \"name\": " << json_string(s.classes[k])
        << ", \"pixels\": " << s.class_pixels[k] << "}";
  }
  out << "]}\n";
  return out.str();
}

std::vector<std::string> write_show_samples(const DataConfig& config, uint64_t seed, const std::string& split,
                                            const std::string& out_dir, int count) {
  const DatasetDescriptor descriptor = load_config_descriptor(config);
  Loader loader(make_dataset(config, split, DatasetUse::kTraining),
                Transform(TransformOptions::from_config(config, true)), LoaderOptions::from_config(config, true, seed));
  fs::create_directories(out_dir);
  std::vector<std::string> written;
  for (int64_t epoch = 0; static_cast<int>(written.size()) < count; ++epoch) {
    loader.start_epoch(epoch);
    if (loader.num_batches() == 0) throw DataError("split '" + split + "' has fewer samples than one batch");
    while (auto batch = loader.next()) {
      for (size_t i = 0; i < batch->ids.size() && static_cast<int>(written.size()) < count; ++i) {
        const cv::Mat image =
            to_rgb8(batch->images[static_cast<int64_t>(i)], Normalization::from(config.mean, config.std));
        cv::Mat label8;
        cv::Mat(image.rows, image.cols, CV_64F,
                batch->labels[static_cast<int64_t>(i)].to(at::kDouble).data_ptr<double>())
            .convertTo(label8, CV_8U);
        cv::Mat side;
        cv::hconcat(image, colorize_label(label8, descriptor), side);
        const std::string path =
            (fs::path(out_dir) / (std::to_string(written.size()) + "_" + batch->ids[i] + ".png")).string();
        write_rgb_image(side, path);
        written.push_back(path);
      }
      if (static_cast<int>(written.size()) >= count) break;
    }
  }
  return written;
}

}  // namespace deeplab::data
