#pragma once
// Writes synthetic scenes as a dataset in the exact official layout.

#include <cstdint>
#include <string>
#include <vector>

namespace deeplab::data::synth {

/// What `deeplab data synth` is asked for.
struct SynthOptions {
  std::string layout = "voc";  // synth_layouts()
  std::string out;
  int num = 40;  // images in total (train + val)
  int height = 128, width = 128;
  uint64_t seed = 0;
  double val_fraction = 0.25;
  int num_classes = 6;  // VOC layout: foreground classes 1..num_classes (<= kMaxVocObjectClasses)
  bool force = false;   // rewrite even if the dataset on disk is up to date
};

/// Counts of what was written.
struct SynthReport {
  int train = 0, val = 0;
  bool up_to_date = false;  // nothing written: synth.yaml matched these options and generator version
};

/// Bumped whenever the generator draws different scenes for the same options,
/// so datasets written by an older version are regenerated, never reused.
constexpr int kGeneratorVersion = 6;

/// The --layout names: voc, cityscapes, ade20k, coco_stuff, pascal_context.
std::vector<std::string> synth_layouts();

/// VOC: JPEGImages/*.jpg, SegmentationClass/*.png (VOC palette, 255 boundaries),
/// ImageSets/Segmentation/{train,val,trainval}.txt.
/// Cityscapes: leftImg8bit/{train,val}/<city>/*_leftImg8bit.png, gtFine/... *_gtFine_labelIds.png
/// (8-bit) and *_gtFine_instanceIds.png (16-bit). Image i depends only on (seed, i).
/// ADE20K, COCO-Stuff and PASCAL-Context: synth/scene_parsing_layouts.h.
/// Every layout gets `synth.yaml` (generator version + options), written last:
/// when it already says exactly this, the call writes nothing (unless `force`).
SynthReport write_synthetic_dataset(const SynthOptions& options);

}  // namespace deeplab::data::synth
