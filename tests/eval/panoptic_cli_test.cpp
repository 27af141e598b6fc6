// Panoptic evaluation end to end on a briefly trained Panoptic-DeepLab: the
// PQ that `deeplab eval` reports equals (to 1e-9) what `deeplab eval-panoptic`
// computes from its `--save-pred` files against ground truth converted by
// `deeplab data cityscapes-panoptic`, and what an independent numpy oracle
// (scripts/fixtures/cityscapes_panoptic_reference.py: createPanopticImgs +
// evalPanopticSemanticLabeling rules) computes from the same files.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "deeplab/core/fs_util.h"
#include "tests/support/json_file.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace deeplab::eval {
namespace {

using nlohmann::json;
using testing::read_json_file;
using testing::source_path;

// Small enough to train in seconds, trained enough that stuff segments match:
// BN momentum 0.1 (MobileNet-V3's 0.01 leaves eval statistics near their
// start), 150 steps.  scripts/check_training_margins.sh measured 10-14 true
// positives over seeds, threads and ISAs (60 steps at lr 0.005 gave 1-4).
constexpr size_t kValImages = 8;  // of the 16 synthetic scenes, --val-fraction 0.5

std::string tiny_panoptic_config(const testing::TempDir& dir, const std::string& root) {
  std::ostringstream yaml;
  yaml << "_base_: [" << source_path("configs/_base_/default_runtime.yaml") << "]\n"
       << "model: {arch: panoptic_deeplab, num_classes: 19, align_corners: true, bn_momentum: 0.1,\n"
       << "  backbone: {name: mobilenet_v3_small, output_stride: 16}, head: {channels: 32},\n"
       << "  panoptic: {semantic_decoder_channels: 32, semantic_head_channels: 32,\n"
       << "             instance_decoder_channels: 32, instance_head_channels: 16}}\n"
       << "data: {dataset: cityscapes_panoptic, root: " << root
       << ", crop_size: [64, 128], batch_size: 4, workers: 1,\n"
       << "  panoptic: {sigma: 2, small_instance_area: 32, stuff_area: 16, nms_kernel: 5, top_k: 50}}\n"
       << "train: {max_iters: 150, lr: 0.01, optimizer: {name: adamw}, log_every: 50, checkpoint_every: 1000}\n"
       << "runtime: {threads: " << testing::test_threads(2) << ", seed: " << testing::test_seed(0) << "}\n";
  return dir.write("exp.yaml", yaml.str());
}

void expect_same_averages(const json& ours, const json& other, double tolerance, const std::string& what) {
  for (const char* group : {"All", "Things", "Stuff"}) {
    for (const char* metric : {"pq", "sq", "rq"}) {
      EXPECT_NEAR(ours.at(group).at(metric).get<double>(), other.at(group).at(metric).get<double>(), tolerance)
          << what << " " << group << " " << metric;
    }
    EXPECT_EQ(ours.at(group).at("n"), other.at(group).at("n")) << what << " " << group;
  }
}

// tp/fp/fn of `per_class` (keyed by category id) by class name via `names`.
std::map<std::string, std::array<int, 3>> counts_by_name(const json& per_class,
                                                         const std::map<std::string, std::string>& names) {
  std::map<std::string, std::array<int, 3>> out;
  for (const auto& [id, c] : per_class.items()) {
    const std::string name = names.count(id) ? names.at(id) : c.value("name", id);
    out[name] = {c.at("tp").get<int>(), c.at("fp").get<int>(), c.at("fn").get<int>()};
  }
  return out;
}

TEST(PanopticCli, SavedPredictionsScoreTheSamePqWithEvalPanopticAndAnIndependentOracle) {
  testing::TempDir dir;
  const std::string root = dir.path() + "/cityscapes";
  auto r = testing::run_deeplab("data synth --layout cityscapes --out " + root +
                                " --num 16 --val-fraction 0.5 --size 64x128 --seed 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string config = tiny_panoptic_config(dir, root);
  r = testing::run_deeplab("train -c " + config + " --work-dir " + dir.path() + "/run");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const std::string pred = dir.path() + "/pred";
  r = testing::run_deeplab("eval -c " + config + " --weights " + dir.path() + "/run/final.pth --json " +
                           dir.file("eval.json") + " --save-pred " + pred + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json ours = read_json_file(dir.file("eval.json"));
  ASSERT_TRUE(ours.contains("PQ")) << ours.dump();
  EXPECT_EQ(ours.at("PQ"), ours.at("panoptic").at("All").at("pq"));
  int true_positives = 0;
  for (const auto& [id, c] : ours.at("panoptic").at("per_class").items()) true_positives += c.at("tp").get<int>();
  EXPECT_GE(true_positives, 3) << "a prediction with (almost) no matches would prove little: " << ours.dump();
  std::cout << "margin panoptic: " << true_positives << " true positives, PQ " << ours.at("PQ").get<double>() << "\n";

  // Our conversion of the ground truth + eval-panoptic on the saved files.
  r = testing::run_deeplab("data cityscapes-panoptic --root " + root + " --split val --output " + dir.path() + "/gt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("eval-panoptic --gt-json " + dir.path() + "/gt/cityscapes_panoptic_val.json --gt-dir " +
                           dir.path() + "/gt/cityscapes_panoptic_val --pred-json " + pred +
                           "/panoptic.json --pred-dir " + pred + "/panoptic --json " + dir.file("files.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json files = read_json_file(dir.file("files.json"));
  expect_same_averages(ours.at("panoptic"), files, 1e-9, "eval-panoptic on --save-pred");
  const auto ours_counts = counts_by_name(ours.at("panoptic").at("per_class"), {});
  EXPECT_EQ(ours_counts, counts_by_name(files.at("per_class"), {}));

  // `deeplab predict` on the val images writes the same panoptic PNGs (as a
  // set: its names follow the input files, eval's the sample ids) and a
  // COCO panoptic JSON with one annotation per image.
  r = testing::run_deeplab("predict -c " + config + " --weights " + dir.path() + "/run/final.pth " + root +
                           "/leftImg8bit/val --no-progress --out " + dir.path() + "/predict");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto png_contents = [](const std::string& folder) {
    std::multiset<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(folder)) {
      if (e.path().extension() == ".png") out.insert(core::read_file(e.path().string()));
    }
    return out;
  };
  const auto eval_pngs = png_contents(pred + "/panoptic");
  EXPECT_EQ(eval_pngs.size(), kValImages);
  EXPECT_EQ(png_contents(dir.path() + "/predict/panoptic"), eval_pngs);
  const json predicted = read_json_file(dir.path() + "/predict/panoptic.json");
  EXPECT_EQ(predicted.at("annotations").size(), kValImages);
  EXPECT_EQ(predicted.at("categories"), read_json_file(pred + "/panoptic.json").at("categories"));

  // The exported file runs the same way without the config: `predict --model`
  // (NCHW on both sides here, so both run the very same kernels).
  r = testing::run_deeplab("export -c " + config + " --weights " + dir.path() + "/run/final.pth -o " +
                           dir.file("m.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string val = root + "/leftImg8bit/val --no-progress --no-channels-last --out ";
  r = testing::run_deeplab("predict --model " + dir.file("m.pt") + " " + val + dir.path() + "/from_export");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("predict -c " + config + " --weights " + dir.path() + "/run/final.pth " + val + dir.path() +
                           "/from_config");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(png_contents(dir.path() + "/from_export/panoptic"), png_contents(dir.path() + "/from_config/panoptic"));
  // Its JSON uses the dataset's category ids too (meta.json carries them), so
  // it is the config path's JSON.
  const json from_export = read_json_file(dir.path() + "/from_export/panoptic.json");
  const json from_config = read_json_file(dir.path() + "/from_config/panoptic.json");
  EXPECT_EQ(from_export.at("annotations").size(), kValImages);
  EXPECT_EQ(from_export.at("categories"), from_config.at("categories"));
  EXPECT_EQ(from_export.at("annotations"), from_config.at("annotations"));

  // --crf refines the semantic softmax before the merge (argmax and class
  // votes then follow the image's edges): one annotation per image still,
  // and labels move somewhere.
  r = testing::run_deeplab("predict -c " + config + " --weights " + dir.path() + "/run/final.pth " + val + dir.path() +
                           "/with_crf --crf");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("+ CRF"), std::string::npos) << r.output;
  EXPECT_EQ(read_json_file(dir.path() + "/with_crf/panoptic.json").at("annotations").size(), kValImages);
  EXPECT_EQ(png_contents(dir.path() + "/with_crf/panoptic").size(), kValImages);
  EXPECT_NE(png_contents(dir.path() + "/with_crf"), png_contents(dir.path() + "/from_config"));
  // eval.crf does the same in `deeplab eval`: its saved panoptic PNGs are predict --crf's.
  r = testing::run_deeplab("eval -c " + config + " --weights " + dir.path() +
                           "/run/final.pth --set eval.crf.enabled=true"
                           " --no-channels-last --no-progress --save-pred " +
                           dir.path() + "/pred_crf");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(png_contents(dir.path() + "/pred_crf/panoptic"), png_contents(dir.path() + "/with_crf/panoptic"));

  // The independent oracle, on label ids (the saved files' category ids).
  std::string out;
  if (testing::run_shell(deeplab::testing::oracle_python() + " -c 'import numpy, PIL'", &out) != 0) {
    GTEST_SKIP() << deeplab::testing::oracle_python() + " with numpy + PIL not found: oracle part skipped";
  }
  ASSERT_EQ(testing::run_shell(deeplab::testing::oracle_python() + " " +
                                   source_path("scripts/fixtures/cityscapes_panoptic_reference.py") +
                                   " --gt-split-dir " + root + "/gtFine/val --pred-json " + pred +
                                   "/panoptic.json --pred-dir " + pred + "/panoptic > " + dir.file("oracle.json"),
                               &out),
            0)
      << out;
  const json oracle = read_json_file(dir.file("oracle.json"));
  expect_same_averages(ours.at("panoptic"), oracle, 1e-9, "oracle");
  std::map<std::string, std::string> label_id_names;
  for (const auto& [id, c] : files.at("per_class").items()) label_id_names[id] = c.at("name");
  auto oracle_counts = counts_by_name(oracle.at("per_class"), label_id_names);
  for (auto it = oracle_counts.begin(); it != oracle_counts.end();) {  // ours lists only counted classes' zeros too
    it = (it->second == std::array<int, 3>{0, 0, 0} && !ours_counts.count(it->first)) ? oracle_counts.erase(it) : ++it;
  }
  EXPECT_EQ(ours_counts, oracle_counts);
}

}  // namespace
}  // namespace deeplab::eval
