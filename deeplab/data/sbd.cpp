#include "deeplab/data/sbd.h"

#include <matio.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;

namespace {

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};

template <class T>
cv::Mat column_major_to_mat(const matvar_t* seg) {
  const int rows = static_cast<int>(seg->dims[0]), cols = static_cast<int>(seg->dims[1]);
  cv::Mat out(rows, cols, CV_8UC1);
  const T* data = static_cast<const T*>(seg->data);
  for (int x = 0; x < cols; ++x) {
    for (int y = 0; y < rows; ++y)
      out.at<uint8_t>(y, x) = static_cast<uint8_t>(data[static_cast<size_t>(x) * rows + y]);
  }
  return out;
}

}  // namespace

cv::Mat read_sbd_segmentation(const std::string& path) {
  if (!fs::is_regular_file(path)) throw IoError("SBD label not found: " + path);
  std::unique_ptr<mat_t, MatCloser> mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  if (!mat) throw IoError("cannot open MAT file (corrupt or unsupported): " + path);
  std::unique_ptr<matvar_t, VarFreer> gt(Mat_VarRead(mat.get(), "GTcls"));
  if (!gt || gt->class_type != MAT_C_STRUCT) throw IoError(path + ": no struct variable 'GTcls'");
  matvar_t* seg = Mat_VarGetStructFieldByName(gt.get(), "Segmentation", 0);  // owned by gt
  if (!seg || seg->rank != 2 || !seg->data) throw IoError(path + ": GTcls has no 2-D field 'Segmentation'");
  switch (seg->class_type) {
    case MAT_C_UINT8: return column_major_to_mat<uint8_t>(seg);
    case MAT_C_DOUBLE: return column_major_to_mat<double>(seg);
    case MAT_C_INT32: return column_major_to_mat<int32_t>(seg);
    case MAT_C_UINT16: return column_major_to_mat<uint16_t>(seg);
    default:
      throw IoError(path + ": GTcls.Segmentation has unsupported MATLAB class " +
                    std::to_string(static_cast<int>(seg->class_type)));
  }
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
