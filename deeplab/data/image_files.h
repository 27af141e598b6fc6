#pragma once
// What `deeplab predict` is given: image files, folders of them (recursive,
// sorted) and video files, sorted out by extension; and the images as a
// Dataset (no labels), so that predict reads them exactly as evaluation
// reads a dataset (same decoding, normalisation, worker threads).

#include <string>
#include <vector>

#include "deeplab/data/dataset.h"

namespace deeplab::data {

/// A file and the name its outputs take: the path below the folder it was
/// found in (or the file name) without its extension, e.g. "street/0001".
struct InputFile {
  std::string path;
  std::string name;
};

struct InputFiles {
  std::vector<InputFile> images;  // .jpg .jpeg .png .bmp .ppm .pgm .tif .tiff .webp
  std::vector<InputFile> videos;  // .mp4 .avi .mkv .mov .webm .m4v
};

/// Expands `inputs`.  IoError naming the input: a path that does not exist,
/// a folder with no image or video in it, a file of another kind, or two
/// inputs whose outputs would take the same name.
InputFiles collect_input_files(const std::vector<std::string>& inputs);

/// Images without labels (every label pixel `ignore_label`); sample ids are
/// the files' output names.
class ImageFilesDataset : public Dataset {
 public:
  ImageFilesDataset(std::vector<InputFile> files, int num_classes, int ignore_label);

  size_t size() const override { return files_.size(); }
  Sample get(size_t index) const override;
  std::string id(size_t index) const override { return files_.at(index).name; }
  int num_classes() const override { return num_classes_; }
  int ignore_label() const override { return ignore_label_; }
  const InputFile& file(size_t index) const { return files_.at(index); }

 private:
  std::vector<InputFile> files_;
  int num_classes_, ignore_label_;
};

}  // namespace deeplab::data
