#pragma once
// The synthetic object scenes written in the layouts of ADE20K, COCO-Stuff
// 164k and PASCAL-Context, with each dataset's own raw label ids, so that a
// first run (and the tests) go through the real loaders and label maps.

#include <array>
#include <string>

#include "deeplab/data/synth/scene_generator.h"
#include "deeplab/data/synth/synth_writer.h"

namespace deeplab::data::synth {

/// The raw id each layout writes for the scene's background (index 0), its
/// object classes 1..6, and VOC's void boundary band.
struct RawIds {
  std::array<int, kMaxVocObjectClasses + 1> classes;
  int boundary = -1;  // -1: no void band (the objects' own ids)
};

/// ADE20K: floor; person, car, bed, chair, table, plant (objectInfo150
/// index, 1-based); the band is 0, "other".
const RawIds& ade20k_raw_ids();
/// COCO-Stuff: grass; person, airplane, bus, dog, bottle, chair (COCO id - 1;
/// classes whose palette colours are their own); the band is 255, unlabeled.
const RawIds& coco_stuff_raw_ids();
/// PASCAL-Context: atrium, outside the 59 (so background); aeroplane, bag,
/// bed, bird, boat, book (labels.txt index, 1-based); no band, as every
/// PASCAL-Context pixel has a label.
const RawIds& pascal_context_raw_ids();

/// images/{training,validation}/ADE_{train,val}_%08d.jpg with
/// annotations/.../*.png (8-bit).
SynthReport write_ade20k(const SynthOptions& options);
/// images/{train2017,val2017}/%012d.jpg with
/// stuffthingmaps_trainval2017/.../*.png (8-bit).
SynthReport write_coco_stuff(const SynthOptions& options);
/// JPEGImages/2008_%06d.jpg, trainval/<id>.mat (uint16 `LabelMap`),
/// ImageSets/Main/{train,val,trainval}.txt.
SynthReport write_pascal_context(const SynthOptions& options);

/// Shared with synth_writer.cpp: the last val_fraction of the images are val.
int synth_num_val(const SynthOptions& options);
bool synth_is_val(const SynthOptions& options, int index);
std::string synth_numbered(const char* format, int index);
/// <dir>/{train,val,trainval}.txt, one id a line (VOC's ImageSets lists).
void write_split_lists(const std::string& dir, const std::string& train, const std::string& val);

}  // namespace deeplab::data::synth
