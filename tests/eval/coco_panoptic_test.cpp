// `deeplab eval-panoptic` on the real COCO panoptic samples: ground truth
// against itself, and against perturbed copies whose scores are derived by
// hand from the annotated areas.
//
// The samples (panoptic_examples.json) score 8 categories: things person (26
// segments over both images, plus one crowd region in each), truck (2), horse
// (11), sports ball (1); stuff gravel (1), tree-merged (2), sky-other-merged
// (2), grass-merged (2).  Against itself every segment matches with IoU 1 and
// each crowd region's copy in the prediction lies wholly on that crowd region,
// so it is ignored: PQ = SQ = RQ = 100 for All (n 8), Things (4), Stuff (4).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "deeplab/core/fs_util.h"
#include "deeplab/data/png_io.h"
#include "tests/support/test_support.h"

namespace deeplab::eval {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint32_t kPerson1 = 3937500;      // image 142238, area 3528
constexpr uint32_t kPerson2 = 4260062;      // image 142238, area 3751
constexpr uint32_t kSmallPerson = 3997935;  // image 142238, area 153
constexpr uint32_t kBall = 16757838;        // image 142238, sports ball, area 175
constexpr uint32_t kTree = 2330219;         // tree-merged; area 130762 in image 142238

class CocoPanopticSamples : public ::testing::Test {
 protected:
  void SetUp() override {
    samples_ = testing::samples_dir();
    if (samples_.empty()) GTEST_SKIP() << "../shared/samples not found (set DEEPLAB_SAMPLES)";
    samples_ += "/coco_panoptic";
    fs::copy(samples_ + "/panoptic_examples", dir_.path() + "/pred");
    pred_json_ = json::parse(core::read_file(samples_ + "/panoptic_examples.json"));
  }

  std::string png(const std::string& image) const { return dir_.path() + "/pred/000000" + image + ".png"; }

  json& segments(const std::string& image) {
    for (auto& a : pred_json_["annotations"]) {
      if (std::to_string(a["image_id"].get<int>()) == image) return a["segments_info"];
    }
    throw std::runtime_error("no image " + image);
  }

  // Runs eval-panoptic against the (possibly edited) prediction copy.
  json evaluate() {
    const std::string pred_json = dir_.write("pred.json", pred_json_.dump());
    const std::string out = dir_.file("pq.json");
    const auto r = testing::run_deeplab("eval-panoptic --gt-json " + samples_ + "/panoptic_examples.json --gt-dir " +
                                        samples_ + "/panoptic_examples --pred-json " + pred_json + " --pred-dir " +
                                        dir_.path() + "/pred --json " + out);
    output_ = r.output;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.exit_code == 0 ? json::parse(core::read_file(out)) : json();
  }

  // Replaces pixel ids in one prediction PNG: `edit(x, y, id)` returns the new id.
  template <class F>
  void edit_png(const std::string& image, F edit) {
    const data::PngImage in = data::read_png(png(image));
    std::vector<uint32_t> ids = data::png_to_ids(in);
    for (size_t i = 0; i < ids.size(); ++i)
      ids[i] = edit(static_cast<int>(i % in.width), static_cast<int>(i / in.width), ids, i);
    data::write_png(png(image), data::ids_to_rgb(ids, in.width, in.height));
  }

  std::string samples_;
  testing::TempDir dir_;
  json pred_json_;
  std::string output_;
};

TEST_F(CocoPanopticSamples, GroundTruthAgainstItselfIs100) {
  const json r = evaluate();
  for (const char* group : {"All", "Things", "Stuff"}) {
    EXPECT_DOUBLE_EQ(r[group]["pq"].get<double>(), 1.0) << group;
    EXPECT_DOUBLE_EQ(r[group]["sq"].get<double>(), 1.0) << group;
    EXPECT_DOUBLE_EQ(r[group]["rq"].get<double>(), 1.0) << group;
  }
  EXPECT_EQ(r["All"]["n"], 8);
  EXPECT_EQ(r["Things"]["n"], 4);
  EXPECT_EQ(r["Stuff"]["n"], 4);
  EXPECT_EQ(r["per_class"]["1"]["tp"], 26);
  EXPECT_NE(output_.find("100.0"), std::string::npos) << output_;
}

// Merge person 4260062 (3751 px) into person 3937500 (3528 px): one predicted
// segment of 7279 px.  IoU with 3937500 = 3528/7279 < 0.5 (FN); with 4260062 =
// 3751/7279 > 0.5 (TP).  person: TP 25, FN 1, FP 0, IoU sum 24 + 3751/7279.
TEST_F(CocoPanopticSamples, MergedSegment) {
  edit_png("142238",
           [](int, int, const std::vector<uint32_t>& ids, size_t i) { return ids[i] == kPerson2 ? kPerson1 : ids[i]; });
  auto& s = segments("142238");
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i]["id"] == kPerson2) s.erase(i);
  }
  const json r = evaluate();
  const double iou_sum = 24.0 + 3751.0 / 7279.0;
  const double person_pq = iou_sum / 25.5;
  EXPECT_EQ(r["per_class"]["1"]["tp"], 25);
  EXPECT_EQ(r["per_class"]["1"]["fn"], 1);
  EXPECT_EQ(r["per_class"]["1"]["fp"], 0);
  EXPECT_DOUBLE_EQ(r["per_class"]["1"]["pq"].get<double>(), person_pq);
  EXPECT_DOUBLE_EQ(r["per_class"]["1"]["sq"].get<double>(), iou_sum / 25.0);
  EXPECT_DOUBLE_EQ(r["per_class"]["1"]["rq"].get<double>(), 25.0 / 25.5);
  EXPECT_DOUBLE_EQ(r["Things"]["pq"].get<double>(), (3.0 + person_pq) / 4.0);
  EXPECT_DOUBLE_EQ(r["All"]["pq"].get<double>(), (7.0 + person_pq) / 8.0);
  EXPECT_DOUBLE_EQ(r["Stuff"]["pq"].get<double>(), 1.0);
}

// Split person 3997935 (153 px): its first 50 pixels in raster order become a
// new person segment 9000001.  The 103-px rest keeps IoU 103/153 > 0.5 (TP);
// the 50-px part matches nothing and lies on no VOID or crowd: FP.
// person: TP 26, FP 1, IoU sum 25 + 103/153 -> PQ = that / 26.5.
TEST_F(CocoPanopticSamples, SplitSegment) {
  int taken = 0;
  edit_png("142238", [&](int, int, const std::vector<uint32_t>& ids, size_t i) {
    if (ids[i] == kSmallPerson && taken < 50) {
      ++taken;
      return 9000001u;
    }
    return ids[i];
  });
  ASSERT_EQ(taken, 50);
  segments("142238").push_back({{"id", 9000001}, {"category_id", 1}, {"iscrowd", 0}});
  const json r = evaluate();
  const double iou_sum = 25.0 + 103.0 / 153.0;
  EXPECT_EQ(r["per_class"]["1"]["tp"], 26);
  EXPECT_EQ(r["per_class"]["1"]["fp"], 1);
  EXPECT_DOUBLE_EQ(r["per_class"]["1"]["pq"].get<double>(), iou_sum / 26.5);
  EXPECT_DOUBLE_EQ(r["All"]["pq"].get<double>(), (7.0 + iou_sum / 26.5) / 8.0);
  EXPECT_DOUBLE_EQ(r["All"]["sq"].get<double>(), (7.0 + iou_sum / 26.0) / 8.0);
}

// Shift the sports ball (175 px) 20 px right, where every pixel is
// tree-merged in the ground truth (checked below); its old pixels become tree.
// ball: unmatched both ways -> FN 1, FP 1, PQ 0 (still counted).
// tree in 142238: predicted area stays 130762, intersection 130762 - 175,
// union 130762 + 175 -> IoU 130587/130937; the tree of 439180 is untouched.
// tree PQ = SQ = (1 + 130587/130937) / 2.  Things = 3/4, Stuff = (3 + tree)/4,
// All = (6 + 0 + tree) / 8.
TEST_F(CocoPanopticSamples, ShiftedSegment) {
  const data::PngImage gt_png = data::read_png(samples_ + "/panoptic_examples/000000142238.png");
  const std::vector<uint32_t> gt = data::png_to_ids(gt_png);
  const int w = gt_png.width;
  int on_tree = 0;
  edit_png("142238", [&](int x, int y, const std::vector<uint32_t>&, size_t i) {
    if (x >= 20 && gt[static_cast<size_t>(y * w + x - 20)] == kBall) {
      on_tree += gt[i] == kTree;
      return kBall;
    }
    return gt[i] == kBall ? kTree : gt[i];
  });
  ASSERT_EQ(on_tree, 175);
  const json r = evaluate();
  const double tree = (1.0 + 130587.0 / 130937.0) / 2.0;
  EXPECT_EQ(r["per_class"]["37"]["fn"], 1);
  EXPECT_EQ(r["per_class"]["37"]["fp"], 1);
  EXPECT_DOUBLE_EQ(r["per_class"]["37"]["pq"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(r["per_class"]["184"]["pq"].get<double>(), tree);
  EXPECT_DOUBLE_EQ(r["Things"]["pq"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(r["Stuff"]["pq"].get<double>(), (3.0 + tree) / 4.0);
  EXPECT_DOUBLE_EQ(r["All"]["pq"].get<double>(), (6.0 + tree) / 8.0);
  EXPECT_EQ(r["All"]["n"], 8);
}

TEST_F(CocoPanopticSamples, SegmentMissingFromJsonIsAnErrorNamingIt) {
  auto& s = segments("439180");
  s.erase(0);  // person 3937500 of image 439180
  const std::string pred_json = dir_.write("bad.json", pred_json_.dump());
  const auto r =
      testing::run_deeplab("eval-panoptic --gt-json " + samples_ + "/panoptic_examples.json --gt-dir " + samples_ +
                           "/panoptic_examples --pred-json " + pred_json + " --pred-dir " + dir_.path() + "/pred");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("image 439180"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("3937500"), std::string::npos) << r.output;
}

// A segment id written as a string names the file, the annotation (index and
// image_id), the segment and the key, not only nlohmann's "type must be number".
TEST_F(CocoPanopticSamples, AStringSegmentIdNamesTheAnnotationAndTheKey) {
  segments("439180")[1]["id"] = "3937500";
  const std::string pred_json = dir_.write("string_id.json", pred_json_.dump());
  const auto r =
      testing::run_deeplab("eval-panoptic --gt-json " + samples_ + "/panoptic_examples.json --gt-dir " + samples_ +
                           "/panoptic_examples --pred-json " + pred_json + " --pred-dir " + dir_.path() + "/pred");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(pred_json + "' annotations["), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(image_id 439180) segments_info[1]: 'id' must be an integer from 0 to 4294967295, but is "
                          "the string \"3937500\""),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace deeplab::eval
