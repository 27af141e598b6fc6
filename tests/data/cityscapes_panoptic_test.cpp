// `deeplab data cityscapes-panoptic` on a generated gtFine tree, checked
// segment by segment against the createPanopticImgs rules.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

#include "deeplab/core/fs_util.h"
#include "deeplab/data/png_io.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using nlohmann::json;

// 6x4 instanceIds image, row-major (raw values):
//   row 0:  7     7     7   26001 26001 26001
//   row 1:  7     7     7   26002 26002 26002
//   row 2: 26    26   24000 24000   0     0
//   row 3:  4     4    23    23   29001 29001
// road 7 (stuff), car instances 26001/26002, car without instance id 26 (crowd),
// person instance 24000 (>= 1000: an instance, k = 0), unlabeled 0 and static 4
// (ignored: VOID), sky 23 (stuff), caravan instance 29001 (ignored class: VOID).
const std::vector<uint16_t> kInstances = {7,  7,  7,     26001, 26001, 26001, 7, 7, 7,  26002, 26002, 26002,
                                          26, 26, 24000, 24000, 0,     0,     4, 4, 23, 23,    29001, 29001};

struct Expected {
  int category_id;
  int area;
  std::vector<int> bbox;
  int iscrowd;
};

void write_set(const testing::TempDir& dir) {
  data::PngImage inst = data::PngImage::gray(6, 4, 16);
  inst.data16 = kInstances;
  data::write_png(dir.file("cs/gtFine/val/bonn/bonn_000000_000019_gtFine_instanceIds.png"), inst);
  data::PngImage road = data::PngImage::gray(6, 4, 16);
  road.data16.assign(24, 7);
  data::write_png(dir.file("cs/gtFine/val/aachen/aachen_000001_000019_gtFine_instanceIds.png"), road);
}

TEST(CityscapesPanoptic, SegmentsFollowTheOfficialRules) {
  testing::TempDir dir;
  write_set(dir);
  const auto r = testing::run_deeplab("data cityscapes-panoptic --root " + dir.path() + "/cs --split val");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string out = dir.path() + "/cs/gtFine/cityscapes_panoptic_val";
  const json j = json::parse(core::read_file(out + ".json"));

  ASSERT_EQ(j["images"].size(), 2u);
  EXPECT_EQ(j["images"][0]["id"], "aachen_000001_000019");  // sorted by path
  EXPECT_EQ(j["images"][1]["file_name"], "bonn_000000_000019_gtFine_leftImg8bit.png");
  EXPECT_EQ(j["images"][1]["width"], 6);
  EXPECT_EQ(j["categories"].size(), 19u);
  for (const auto& c : j["categories"]) {
    if (c["id"] == 26) {
      EXPECT_EQ(c["isthing"], 1);
    }
    if (c["id"] == 7) {
      EXPECT_EQ(c["isthing"], 0);
    }
  }

  const json& ann = j["annotations"][1];
  EXPECT_EQ(ann["image_id"], "bonn_000000_000019");
  EXPECT_EQ(ann["file_name"], "bonn_000000_000019_gtFine_panoptic.png");
  const std::map<int, Expected> expected = {{7, {7, 6, {0, 0, 3, 2}, 0}},      {23, {23, 2, {2, 3, 2, 1}, 0}},
                                            {26, {26, 2, {0, 2, 2, 1}, 1}},    {24000, {24, 2, {2, 2, 2, 1}, 0}},
                                            {26001, {26, 3, {3, 0, 3, 1}, 0}}, {26002, {26, 3, {3, 1, 3, 1}, 0}}};
  ASSERT_EQ(ann["segments_info"].size(), expected.size()) << ann.dump();
  for (const auto& s : ann["segments_info"]) {
    const int id = s["id"];
    ASSERT_TRUE(expected.count(id)) << "unexpected segment " << id;
    const Expected& e = expected.at(id);
    EXPECT_EQ(s["category_id"], e.category_id) << id;
    EXPECT_EQ(s["area"], e.area) << id;
    EXPECT_EQ(s["bbox"].get<std::vector<int>>(), e.bbox) << id;
    EXPECT_EQ(s["iscrowd"], e.iscrowd) << id;
  }

  // The PNG holds the raw value as R + 256 G, VOID (0) for ignored labels.
  const data::PngImage png = data::read_png(out + "/bonn_000000_000019_gtFine_panoptic.png");
  std::vector<uint32_t> want(kInstances.begin(), kInstances.end());
  for (uint32_t& v : want) {
    if (v == 0 || v == 4 || v == 29001) v = 0;
  }
  EXPECT_EQ(data::png_to_ids(png), want);
  EXPECT_EQ(png.data8[3 * 3 + 0], 26001 % 256);
  EXPECT_EQ(png.data8[3 * 3 + 1], 26001 / 256);

  // The converted ground truth scored against itself: PQ 100 over road, sky, person, car.
  const auto pq = testing::run_deeplab("eval-panoptic --gt-json " + out + ".json --gt-dir " + out + " --pred-json " +
                                       out + ".json --pred-dir " + out + " --json " + dir.file("pq.json"));
  ASSERT_EQ(pq.exit_code, 0) << pq.output;
  const json pqj = json::parse(core::read_file(dir.file("pq.json")));
  EXPECT_DOUBLE_EQ(pqj["All"]["pq"].get<double>(), 1.0);
  EXPECT_EQ(pqj["All"]["n"], 4);
}

TEST(CityscapesPanoptic, TrainIdsAndErrors) {
  testing::TempDir dir;
  write_set(dir);
  const auto r = testing::run_deeplab("data cityscapes-panoptic --root " + dir.path() + "/cs --split val --train-ids");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(core::read_file(dir.path() + "/cs/gtFine/cityscapes_panoptic_val_trainId.json"));
  for (const auto& s : j["annotations"][1]["segments_info"]) {
    if (s["id"] == 26001) {
      EXPECT_EQ(s["category_id"], 13);  // car
    }
    if (s["id"] == 7) {
      EXPECT_EQ(s["category_id"], 0);  // road
    }
  }
  const auto none = testing::run_deeplab("data cityscapes-panoptic --root " + dir.path() + "/cs --split train");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.output.find("train"), std::string::npos) << none.output;

  data::PngImage bad = data::PngImage::gray(2, 1, 16);
  bad.data16 = {7, 40001};
  data::write_png(dir.file("cs/gtFine/test/x/x_000000_000000_gtFine_instanceIds.png"), bad);
  const auto unknown = testing::run_deeplab("data cityscapes-panoptic --root " + dir.path() + "/cs --split test");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("40001"), std::string::npos) << unknown.output;
  EXPECT_NE(unknown.output.find("x_000000_000000_gtFine_instanceIds.png"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace deeplab::data
