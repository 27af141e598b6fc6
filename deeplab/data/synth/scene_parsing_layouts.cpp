#include "deeplab/data/synth/scene_parsing_layouts.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>

#include "deeplab/core/fs_util.h"
#include "deeplab/data/image_writer.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/mat_file.h"
#include "deeplab/data/sampler.h"

namespace deeplab::data::synth {
namespace fs = std::filesystem;

const RawIds& ade20k_raw_ids() {
  static const RawIds ids{{4, 13, 21, 8, 20, 16, 18}, 0};
  return ids;
}

const RawIds& coco_stuff_raw_ids() {
  static const RawIds ids{{123, 0, 4, 5, 17, 43, 61}, 255};
  return ids;
}

const RawIds& pascal_context_raw_ids() {
  static const RawIds ids{{7, 2, 9, 18, 25, 31, 33}, -1};
  return ids;
}

int synth_num_val(const SynthOptions& o) { return static_cast<int>(o.num * o.val_fraction + 0.5); }

bool synth_is_val(const SynthOptions& o, int i) {
  return i >= o.num - synth_num_val(o);  // the last ones: train and val never share an index
}

void write_split_lists(const std::string& dir, const std::string& train, const std::string& val) {
  const fs::path sets(dir);
  core::write_file_atomic((sets / "train.txt").string(), train);
  core::write_file_atomic((sets / "val.txt").string(), val);
  core::write_file_atomic((sets / "trainval.txt").string(), train + val);
}

std::string synth_numbered(const char* format, int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, i);
  return buf;
}

namespace {

// Scene `i` of the dataset with the layout's raw ids (CV_16UC1: PASCAL-Context's go past 255).
Scene render_scene(const SynthOptions& o, int i, const RawIds& ids) {
  Scene s = render_voc_scene(o.height, o.width, kMaxVocObjectClasses, mix_seed(o.seed, static_cast<uint64_t>(i)),
                             ids.boundary >= 0);
  cv::Mat raw(s.label.size(), CV_16UC1);
  for (int y = 0; y < raw.rows; ++y) {
    for (int x = 0; x < raw.cols; ++x) {
      const int v = s.label.at<uint8_t>(y, x);
      raw.at<uint16_t>(y, x) = static_cast<uint16_t>(v == 255 ? ids.boundary : ids.classes[static_cast<size_t>(v)]);
    }
  }
  s.label = raw;
  return s;
}

cv::Mat to_8bit(const cv::Mat& raw) {
  cv::Mat out;
  raw.convertTo(out, CV_8UC1);
  return out;
}

// images/<split>/<name>.jpg + <labels>/<split>/<name>.png, for ADE20K and COCO-Stuff.
SynthReport write_png_layout(const SynthOptions& o, const RawIds& ids, const std::string& labels,
                             const std::string (&splits)[2], const char* (&names)[2], bool number_per_split) {
  const fs::path root(o.out);
  SynthReport report;
  int in_split[2] = {0, 0};
  for (int i = 0; i < o.num; ++i) {
    const int v = synth_is_val(o, i) ? 1 : 0;
    ++in_split[v];
    const std::string name = synth_numbered(names[v], number_per_split ? in_split[v] : i + 1);
    const fs::path img_dir = root / "images" / splits[v], label_dir = root / labels / splits[v];
    fs::create_directories(img_dir);
    fs::create_directories(label_dir);
    const Scene s = render_scene(o, i, ids);
    write_rgb_image(s.image, (img_dir / (name + ".jpg")).string(), {cv::IMWRITE_JPEG_QUALITY, 95});
    write_gray8_label(to_8bit(s.label), (label_dir / (name + ".png")).string());
    ++(v ? report.val : report.train);
  }
  return report;
}

}  // namespace

SynthReport write_ade20k(const SynthOptions& o) {
  const std::string splits[2] = {"training", "validation"};
  const char* names[2] = {"ADE_train_%08d", "ADE_val_%08d"};
  return write_png_layout(o, ade20k_raw_ids(), "annotations", splits, names, true);
}

SynthReport write_coco_stuff(const SynthOptions& o) {
  const std::string splits[2] = {"train2017", "val2017"};
  const char* names[2] = {"%012d", "%012d"};  // COCO image ids, unique across the splits
  return write_png_layout(o, coco_stuff_raw_ids(), "stuffthingmaps_trainval2017", splits, names, false);
}

SynthReport write_pascal_context(const SynthOptions& o) {
  const fs::path root(o.out);
  for (const char* dir : {"JPEGImages", "trainval", "ImageSets/Main"}) fs::create_directories(root / dir);
  std::string train, val;
  SynthReport report;
  for (int i = 0; i < o.num; ++i) {
    const std::string id = synth_numbered("2008_%06d", i);
    const Scene s = render_scene(o, i, pascal_context_raw_ids());
    write_rgb_image(s.image, (root / "JPEGImages" / (id + ".jpg")).string(), {cv::IMWRITE_JPEG_QUALITY, 95});
    write_mat_matrix((root / "trainval" / (id + ".mat")).string(), "LabelMap", s.label);
    (synth_is_val(o, i) ? val : train) += id + "\n";
    ++(synth_is_val(o, i) ? report.val : report.train);
  }
  write_split_lists((root / "ImageSets" / "Main").string(), train, val);
  return report;
}

}  // namespace deeplab::data::synth
