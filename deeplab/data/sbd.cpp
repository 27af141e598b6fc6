#include "deeplab/data/sbd.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/mat_file.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;

cv::Mat read_sbd_segmentation(const std::string& path) {
  if (!fs::is_regular_file(path)) throw IoError("SBD label not found: " + path);
  cv::Mat label;
  read_mat_matrix(path, "GTcls", "Segmentation").convertTo(label, CV_8UC1);  // class ids 0..20
  return label;
}

TrainAugReport make_trainaug(const std::string& voc_root, const std::string& sbd_root, bool write_pngs) {
  require_directory(voc_root, "VOC root");
  require_directory(sbd_root, "SBD root");
  const fs::path sets = fs::path(voc_root) / "ImageSets" / "Segmentation";
  std::set<std::string> ids;
  for (const char* list : {"train.txt", "val.txt"}) {
    for (auto& id : read_id_list((fs::path(sbd_root) / list).string())) ids.insert(id);
  }
  for (auto& id : read_id_list((sets / "train.txt").string())) ids.insert(id);
  for (auto& id : read_id_list((sets / "val.txt").string())) ids.erase(id);

  TrainAugReport report;
  report.list_path = (sets / "train_aug.txt").string();
  report.num_ids = ids.size();
  std::string text;
  for (const auto& id : ids) text += id + "\n";
  core::write_file_atomic(report.list_path, text);
  if (!write_pngs) return report;

  const fs::path out_dir = fs::path(voc_root) / "SegmentationClassAug";
  fs::create_directories(out_dir);
  const auto palette = voc_colormap();
  for (const auto& id : ids) {
    const fs::path voc_png = fs::path(voc_root) / "SegmentationClass" / (id + ".png");
    const cv::Mat label = fs::is_regular_file(voc_png)
                              ? read_label_png(voc_png.string())
                              : read_sbd_segmentation((fs::path(sbd_root) / "cls" / (id + ".mat")).string());
    write_palette_label(label, palette, (out_dir / (id + ".png")).string());
    ++report.num_pngs;
  }
  return report;
}

}  // namespace deeplab::data
