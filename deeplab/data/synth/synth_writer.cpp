#include "deeplab/data/synth/synth_writer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <filesystem>
#include <map>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/data/image_writer.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/sampler.h"
#include "deeplab/data/synth/scene_generator.h"
#include "deeplab/data/synth/scene_parsing_layouts.h"

namespace deeplab::data::synth {
namespace fs = std::filesystem;

namespace {

// What synth.yaml says: everything the images depend on.
std::string stamp(const SynthOptions& o) {
  std::string s = "# written by `deeplab data synth`; the dataset is regenerated when this differs\n";
  s += "generator_version: " + std::to_string(kGeneratorVersion) + "\n";
  s += "layout: " + o.layout + "\n";
  s += "num: " + std::to_string(o.num) + "\n";
  s += "size: [" + std::to_string(o.height) + ", " + std::to_string(o.width) + "]\n";
  s += "seed: " + std::to_string(o.seed) + "\n";
  s += "val_fraction: " + std::to_string(o.val_fraction) + "\n";
  if (o.layout == "voc") s += "classes: " + std::to_string(o.num_classes) + "\n";
  return s;
}

SynthReport write_voc(const SynthOptions& o) {
  const fs::path root(o.out);
  for (const char* dir : {"JPEGImages", "SegmentationClass", "ImageSets/Segmentation"})
    fs::create_directories(root / dir);
  const auto palette = voc_colormap();
  std::string train, val;
  SynthReport report;
  for (int i = 0; i < o.num; ++i) {
    const std::string id = synth_numbered("synth_%06d", i);
    const Scene s = render_voc_scene(o.height, o.width, o.num_classes, mix_seed(o.seed, static_cast<uint64_t>(i)));
    write_rgb_image(s.image, (root / "JPEGImages" / (id + ".jpg")).string(), {cv::IMWRITE_JPEG_QUALITY, 95});
    write_palette_label(s.label, palette, (root / "SegmentationClass" / (id + ".png")).string());
    (synth_is_val(o, i) ? val : train) += id + "\n";
    ++(synth_is_val(o, i) ? report.val : report.train);
  }
  write_split_lists((root / "ImageSets" / "Segmentation").string(), train, val);
  return report;
}

SynthReport write_cityscapes(const SynthOptions& o) {
  const fs::path root(o.out);
  SynthReport report;
  for (int i = 0; i < o.num; ++i) {
    const bool val = synth_is_val(o, i);
    const std::string split = val ? "val" : "train";
    const std::string city = val ? "simval" : synth_numbered("simtrain%d", i % 2);
    const std::string stem = city + synth_numbered("_%06d", i) + "_000019";
    const fs::path img_dir = root / "leftImg8bit" / split / city, gt_dir = root / "gtFine" / split / city;
    fs::create_directories(img_dir);
    fs::create_directories(gt_dir);
    const Scene s = render_cityscapes_scene(o.height, o.width, mix_seed(o.seed, static_cast<uint64_t>(i)));
    write_rgb_image(s.image, (img_dir / (stem + "_leftImg8bit.png")).string());
    write_gray8_label(s.label, (gt_dir / (stem + "_gtFine_labelIds.png")).string());
    write_gray16_label(s.instances, (gt_dir / (stem + "_gtFine_instanceIds.png")).string());
    ++(val ? report.val : report.train);
  }
  return report;
}

using LayoutWriter = SynthReport (*)(const SynthOptions&);

const std::map<std::string, LayoutWriter>& layout_writers() {
  static const std::map<std::string, LayoutWriter> writers = {
      {"voc", write_voc},
      {"cityscapes", write_cityscapes},
      {"ade20k", write_ade20k},
      {"coco_stuff", write_coco_stuff},
      {"pascal_context", write_pascal_context},
  };
  return writers;
}

std::string synth_layout_list() {
  std::string list;
  for (const auto& [name, write] : layout_writers()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

}  // namespace

std::vector<std::string> synth_layouts() {
  std::vector<std::string> names;
  for (const auto& [name, write] : layout_writers()) names.push_back(name);
  return names;
}

SynthReport write_synthetic_dataset(const SynthOptions& o) {
  if (o.out.empty()) throw ConfigError("synthetic dataset: no output directory given");
  if (o.num < 1 || o.height < 16 || o.width < 16) {
    throw ConfigError("synthetic dataset: need --num >= 1 and --size of at least 16x16, got " + std::to_string(o.num) +
                      " images of " + std::to_string(o.height) + "x" + std::to_string(o.width));
  }
  if (o.num_classes < 1 || o.num_classes > kMaxVocObjectClasses) {
    throw ConfigError("synthetic dataset: --classes must be in [1, " + std::to_string(kMaxVocObjectClasses) +
                      "], got " + std::to_string(o.num_classes));
  }
  const auto writer = layout_writers().find(o.layout);
  if (writer == layout_writers().end()) {
    throw ConfigError("synthetic dataset: --layout must be one of " + synth_layout_list() + ", got '" + o.layout + "'");
  }
  const std::string stamp_path = (fs::path(o.out) / "synth.yaml").string();
  const std::string wanted = stamp(o);
  if (!o.force && fs::is_regular_file(stamp_path) && core::read_file(stamp_path) == wanted) {
    SynthReport report;
    report.up_to_date = true;
    report.val = synth_num_val(o);
    report.train = o.num - report.val;
    return report;
  }
  fs::remove(stamp_path);  // an interrupted rewrite must not look up to date
  const SynthReport report = writer->second(o);
  core::write_file_atomic(stamp_path, wanted);
  return report;
}

}  // namespace deeplab::data::synth
