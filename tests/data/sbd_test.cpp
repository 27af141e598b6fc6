// SBD: GTcls.Segmentation from a .mat written by scipy.io.savemat, and the
// trainaug list (SBD train + val + VOC train, minus VOC val).

#include "deeplab/data/sbd.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/sample_io.h"
#include "deeplab/data/voc_dataset.h"
#include "tests/data/data_fixtures.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;

bool write_mat(const std::string& path, int h, int w) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto [code, out] = fixtures::run_python(testing::source_dir() + "/scripts/fixtures/sbd_mat.py",
                                                path + " " + std::to_string(h) + " " + std::to_string(w));
  EXPECT_EQ(code, 0) << out;
  return code == 0;
}

TEST(Sbd, ReadsScipyWrittenGTclsSegmentation) {
  if (!fixtures::python_has("scipy.io")) GTEST_SKIP() << "the oracle Python with scipy not available";
  TempDir dir;
  const std::string mat = dir.path() + "/cls/2008_000002.mat";
  ASSERT_TRUE(write_mat(mat, 5, 7));
  const cv::Mat seg = read_sbd_segmentation(mat);
  ASSERT_EQ(seg.rows, 5);
  ASSERT_EQ(seg.cols, 7);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) EXPECT_EQ(seg.at<uint8_t>(y, x), (x + 2 * y) % 21) << x << "," << y;
}

TEST(Sbd, MissingOrForeignMatFileNamesIt) {
  TempDir dir;
  EXPECT_THROW(read_sbd_segmentation(dir.path() + "/none.mat"), IoError);
  const std::string junk = dir.write("junk.mat", "MATLAB junk");
  try {
    read_sbd_segmentation(junk);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(junk), std::string::npos) << e.what();
  }
}

TEST(Sbd, TrainAugListAndPngsReadThroughVocAug) {
  if (!fixtures::python_has("scipy.io")) GTEST_SKIP() << "the oracle Python with scipy not available";
  TempDir voc, sbd;
  const cv::Mat label(5, 7, CV_8UC1, cv::Scalar(4));
  fixtures::write_voc(voc.path(), {{"v_train", label}}, voc_colormap(), "train");
  fixtures::write_voc(voc.path(), {{"v_val", label}}, voc_colormap(), "val");
  fixtures::write_text(sbd.path() + "/train.txt", "s_a\nv_val\n");
  fixtures::write_text(sbd.path() + "/val.txt", "s_b\n");
  for (const char* id : {"s_a", "s_b", "v_val"}) {
    ASSERT_TRUE(write_mat(sbd.path() + "/cls/" + id + ".mat", 5, 7));
    fixtures::write_rgb(voc.path() + "/JPEGImages/" + id + ".jpg", cv::Mat(5, 7, CV_8UC3, cv::Scalar(1, 2, 3)));
  }
  const TrainAugReport report = make_trainaug(voc.path(), sbd.path(), true);
  EXPECT_EQ(report.num_ids, 3u);  // s_a, s_b, v_train; VOC val excluded
  EXPECT_EQ(core::read_file(report.list_path), "s_a\ns_b\nv_train\n");
  EXPECT_EQ(report.num_pngs, 3u);
  VocOptions options;
  options.root = voc.path();
  options.split = "train_aug";
  options.augmented = true;
  VocDataset ds(options, load_descriptor(testing::source_dir() + "/datasets/voc.yaml"));
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.get(0).label.at<uint8_t>(1, 3), (3 + 2 * 1) % 21);
  EXPECT_EQ(ds.get(2).label.at<uint8_t>(1, 3), 4);  // VOC's own label wins for VOC ids
  // Without PNGs the dataset reads the .mat files straight from sbd_root.
  std::filesystem::remove_all(voc.path() + "/SegmentationClassAug");
  options.sbd_root = sbd.path();
  VocDataset direct(options, load_descriptor(testing::source_dir() + "/datasets/voc.yaml"));
  EXPECT_EQ(direct.get(1).label.at<uint8_t>(4, 6), (6 + 2 * 4) % 21);
}

}  // namespace
}  // namespace deeplab::data
