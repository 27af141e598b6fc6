// `deeplab eval` end to end: parity with a torchvision + numpy reference on
// the real VOC sample (the torchvision configs pixel for pixel), sharded runs
// merged == unsharded, and --save-pred files
// in the official formats that `deeplab eval-semantic` scores identically.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "deeplab/core/config_io.h"
#include "deeplab/models/factory.h"
#include "deeplab/weights/state_dict.h"
#include "tests/eval/eval_test_models.h"
#include "tests/support/json_file.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;

namespace deeplab::eval {
namespace {

using nlohmann::json;
using testing::read_json_file;
using testing::source_path;

// A small model with seeded weights and non-trivial BatchNorm statistics, so
// that its predictions vary over classes and positions.
std::string write_random_weights(const std::string& config_path, const std::string& out) {
  const auto model_config = core::load_config_section<models::ModelConfig>(config_path, "model");
  const models::DeepLab model = testing::small_random_model(model_config, 11);
  weights::save_module_state_dict(*model, out);
  return out;
}

std::string small_config(const testing::TempDir& dir, const std::string& dataset, const std::string& root,
                         int classes) {
  std::ostringstream yaml;
  yaml << "_base_: [" << source_path("configs/_base_/default_runtime.yaml") << "]\n"
       << "model: {arch: deeplabv3, num_classes: " << classes
       << ", backbone: {name: mobilenet_v3_small, output_stride: 16}}\n"
       << "data: {dataset: " << dataset << ", root: " << root << ", workers: 1}\n"
       << "runtime: {threads: 2}\n";
  return dir.write("exp.yaml", yaml.str());
}

testing::CommandResult synth(const std::string& layout, const std::string& out, const std::string& size) {
  return testing::run_deeplab("data synth --layout " + layout + " --out " + out +
                              " --num 6 --val-fraction 0.5 --size " + size + " --seed 4");
}

// A synthetic VOC set (3 val images of 65 x 97) and a small seeded model in
// `dir`; `eval` gets the `deeplab eval` command line that scores it, weights
// in dir (so default JSON files land there).
void prepare_small_voc_eval(const testing::TempDir& dir, std::string* eval) {
  const std::string data = dir.path() + "/voc";
  const auto r = synth("voc", data, "65x97");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string config = small_config(dir, "voc", data, 21);
  const std::string weights = write_random_weights(config, dir.file("w.pth"));
  *eval = "eval -c " + config + " --weights " + weights + " --no-progress";
}

std::vector<int64_t> flat_matrix(const json& j) {
  std::vector<int64_t> cells;
  for (const auto& row : j.at("confusion_matrix"))
    for (const auto& v : row) cells.push_back(v.get<int64_t>());
  return cells;
}

int predicted_classes(const json& j) {
  int n = 0;
  for (const auto& c : j.at("per_class")) n += c.at("pred_pixels").get<int64_t>() > 0;
  return n;
}

TEST(EvalCli, VocSampleConfusionMatchesTorchvisionReference) {
  const std::string samples = testing::samples_dir();
  if (samples.empty()) GTEST_SKIP() << "../shared/samples not found";
  if (!testing::have_python_oracle())
    GTEST_SKIP() << deeplab::testing::oracle_python() + " with torch + torchvision not found";
  const std::string fixture = testing::python_fixture_dir("torchvision_parity.py") + "/deeplabv3_resnet50.pth";
  const std::string voc = samples + "/voc2012";
  testing::TempDir dir;
  const std::string weights = dir.file("deeplabv3_resnet50.pth");
  auto r = testing::run_deeplab("import --from torchvision --arch deeplabv3_resnet50 " + fixture + " " + weights);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  r = testing::run_deeplab("eval -c " + source_path("configs/torchvision/deeplabv3_resnet50.yaml") + " --weights " +
                           weights + " --set model.aux_loss=false --set data.root=" + voc + " --save-pred " +
                           dir.path() + "/pred --save-vis " + dir.path() + "/vis --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote " + dir.path() + "/eval.json"), std::string::npos) << r.output;  // beside the weights
  const json ours = read_json_file(dir.path() + "/eval.json");
  ASSERT_TRUE(ours.contains("mIoU"));
  EXPECT_EQ(ours["images"], 1);
  EXPECT_EQ(ours["pixels"], 187500 - 8714);  // the sample's non-void pixels
  EXPECT_GE(predicted_classes(ours), 2) << "a trivial prediction would prove little";

  std::string out;
  ASSERT_EQ(
      testing::run_shell(deeplab::testing::oracle_python() + " " + source_path("scripts/fixtures/eval_reference.py") +
                             " confusion --weights " + fixture + " --root " + voc + " --out " + dir.file("ref.json"),
                         &out),
      0)
      << out;
  const auto a = flat_matrix(ours), b = flat_matrix(read_json_file(dir.file("ref.json")));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double tolerance = 0.001 * static_cast<double>(std::max(a[i], b[i]));
    EXPECT_LE(std::abs(a[i] - b[i]), tolerance)
        << "cell gt " << i / 21 << " pred " << i % 21 << ": " << a[i] << " vs " << b[i];
  }

  // The saved predictions score the same with eval-semantic, and are VOC palette PNGs.
  r = testing::run_deeplab("eval-semantic --gt " + voc + "/SegmentationClass --pred " + dir.path() +
                           "/pred --num-classes 21 --json " + dir.file("semantic.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json semantic = read_json_file(dir.file("semantic.json"));
  EXPECT_EQ(flat_matrix(semantic), a);
  EXPECT_EQ(semantic["mIoU"], ours["mIoU"]);
  ASSERT_EQ(
      testing::run_shell(deeplab::testing::oracle_python() + " " + source_path("scripts/fixtures/eval_reference.py") +
                             " check-voc-png " + dir.path() + "/pred/2007_000063.png",
                         &out),
      0)
      << out;
  EXPECT_NE(out.find("mode=P voc_palette=yes size=500x375"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir.path() + "/vis/2007_000063.png"));
}

// configs/torchvision/* evaluate exactly as torchvision's model does (no
// padding to the stride): label maps identical to Python torchvision's on the
// real VOC sample, for seeded weights with non-trivial BatchNorm statistics.
TEST(EvalCli, TorchvisionConfigsGiveTorchvisionsLabelMapsPixelForPixel) {
  const std::string samples = testing::samples_dir();
  if (samples.empty()) GTEST_SKIP() << "../shared/samples not found";
  if (!testing::have_python_oracle())
    GTEST_SKIP() << deeplab::testing::oracle_python() + " with torch + torchvision not found";
  struct Case {
    std::string fixture, arch, config;
    bool aux;
  };
  const std::vector<Case> cases = {
      {"deeplabv3_resnet50", "deeplabv3_resnet50", "deeplabv3_resnet50", false},
      {"deeplabv3_resnet101_aux", "deeplabv3_resnet101", "deeplabv3_resnet101", true},
      {"deeplabv3_mobilenet_v3_large_aux", "deeplabv3_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", true},
  };
  const std::string fixtures = testing::python_fixture_dir("torchvision_parity.py");
  const std::string voc = samples + "/voc2012";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config);
    testing::TempDir dir;
    const std::string fixture = fixtures + "/" + c.fixture + ".pth", weights = dir.file("w.pth");
    auto r = testing::run_deeplab("import --from torchvision --arch " + c.arch + " " + fixture + " " + weights);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Plain fp32 with BN layers runs torchvision's very kernels: equal pixel for
    // pixel.  The defaults (folded BN, channels-last) round differently, so a
    // pixel on a near-tie may flip: at most 1 in 10^4.
    const std::string eval = "eval -c " + source_path("configs/torchvision/" + c.config + ".yaml") + " --weights " +
                             weights + (c.aux ? "" : " --set model.aux_loss=false") + " --set data.root=" + voc +
                             " --no-progress --save-pred " + dir.path();
    r = testing::run_deeplab(eval + "/fast --json " + dir.file("fast.json"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = testing::run_deeplab(eval + "/pred --json " + dir.file("eval.json") + " --no-fold-bn --no-channels-last");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_GE(predicted_classes(read_json_file(dir.file("eval.json"))), 2)
        << "a one-class prediction would prove little";
    std::string out;
    ASSERT_EQ(
        testing::run_shell(deeplab::testing::oracle_python() + " " + source_path("scripts/fixtures/eval_reference.py") +
                               " confusion --arch " + c.arch + (c.aux ? " --aux" : "") + " --weights " + fixture +
                               " --root " + voc + " --save-labels " + dir.path() + "/ref --out " + dir.file("ref.json"),
                           &out),
        0)
        << out;
    ASSERT_EQ(
        testing::run_shell(deeplab::testing::oracle_python() + " " + source_path("scripts/fixtures/eval_reference.py") +
                               " compare-labels " + dir.path() + "/ref " + dir.path() + "/pred",
                           &out),
        0)
        << out;
    EXPECT_EQ(out.rfind("0 of 187500 pixels differ in 1 images", 0), 0u) << out;  // at the start: not "10 of"
    ASSERT_EQ(
        testing::run_shell(deeplab::testing::oracle_python() + " " + source_path("scripts/fixtures/eval_reference.py") +
                               " compare-labels " + dir.path() + "/ref " + dir.path() + "/fast",
                           &out),
        0)
        << out;
    EXPECT_LE(std::stoi(out), 18) << out;  // of 187500
  }
}

TEST(EvalCli, TwoShardsMergedEqualUnshardedExactly) {
  testing::TempDir dir;
  std::string small_eval;
  ASSERT_NO_FATAL_FAILURE(prepare_small_voc_eval(dir, &small_eval));
  const std::string eval = small_eval + " --set eval.flip=true";
  auto r = testing::run_deeplab(eval + " --json " + dir.file("all.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int rank = 0; rank < 2; ++rank) {
    r = testing::run_deeplab(eval + " --rank " + std::to_string(rank) + " --world-size 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const std::string shard0 = dir.path() + "/eval.rank0-of-2.json", shard1 = dir.path() + "/eval.rank1-of-2.json";
  r = testing::run_deeplab("eval-merge " + shard0 + " " + shard1 + " --json " + dir.file("merged.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json all = read_json_file(dir.file("all.json")), merged = read_json_file(dir.file("merged.json"));
  const json a = read_json_file(shard0), b = read_json_file(shard1);
  EXPECT_EQ(all["images"], 3);
  EXPECT_GE(a["images"].get<int>(), 1);
  EXPECT_GE(b["images"].get<int>(), 1);
  EXPECT_EQ(merged["images"], all["images"]);
  EXPECT_EQ(merged["shards"], 2);
  EXPECT_GE(predicted_classes(all), 2);
  EXPECT_EQ(flat_matrix(merged), flat_matrix(all));
  EXPECT_EQ(merged["mIoU"], all["mIoU"]);

  r = testing::run_deeplab("eval-merge " + shard0 + " " + shard0);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(shard0 + ": rank 0 given twice"), std::string::npos) << r.output;
  r = testing::run_deeplab("eval-merge " + shard1);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("1 shard(s) of a world size of 2"), std::string::npos) << r.output;
}

// A run with the dense CRF writes eval.crf.json by default, so the plain
// eval.json beside the weights survives it, and each file's "run" says
// whether (and with what settings) the CRF and the inference options ran.
TEST(EvalCli, CrfRunKeepsThePlainResultAndRecordsItsSettings) {
  testing::TempDir dir;
  std::string eval;
  ASSERT_NO_FATAL_FAILURE(prepare_small_voc_eval(dir, &eval));
  auto r = testing::run_deeplab(eval);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string plain_text = core::read_file(dir.file("eval.json"));
  r = testing::run_deeplab(eval + " --set eval.crf.enabled=true --set eval.crf.bilateral_weight=5 --no-fold-bn");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote " + dir.file("eval.crf.json")), std::string::npos) << r.output;
  EXPECT_EQ(core::read_file(dir.file("eval.json")), plain_text) << "the CRF run replaced the plain result";

  const json plain = json::parse(plain_text), crf = read_json_file(dir.file("eval.crf.json"));
  EXPECT_TRUE(plain["run"]["crf"].is_null());
  EXPECT_EQ(plain["run"]["inference"]["fold_bn"], true);
  EXPECT_EQ(crf["run"]["crf"]["bilateral_weight"], 5.0);
  EXPECT_EQ(crf["run"]["crf"]["iterations"], 10);
  EXPECT_EQ(crf["run"]["inference"]["fold_bn"], false);
  EXPECT_EQ(crf["images"], plain["images"]);
  EXPECT_NE(flat_matrix(crf), flat_matrix(plain)) << "the CRF changed no pixel: the run would prove little";

  // Shards of a CRF run are named apart from a plain run's shards too.
  r = testing::run_deeplab(eval + " --set eval.crf.enabled=true --rank 1 --world-size 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir.file("eval.crf.rank1-of-2.json"))) << r.output;
}

TEST(EvalCli, CityscapesLabelIdsScoreIdenticallyWithEvalSemantic) {
  testing::TempDir dir;
  const std::string data = dir.path() + "/cityscapes";
  auto r = synth("cityscapes", data, "64x128");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string config = small_config(dir, "cityscapes", data, 19);
  const std::string weights = write_random_weights(config, dir.file("w.pth"));
  // Sliding windows at two scales with flips: the path the Cityscapes configs take.
  r = testing::run_deeplab("eval -c " + config + " --weights " + weights + " --json " + dir.file("ours.json") +
                           " --save-pred " + dir.path() + "/pred --save-vis " + dir.path() +
                           "/vis --set eval.mode=slide --set eval.window=[48,48] --set eval.scales=[0.75,1.0]"
                           " --set eval.flip=true");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json ours = read_json_file(dir.file("ours.json"));
  EXPECT_GE(predicted_classes(ours), 2);
  EXPECT_EQ(ours["run"]["mode"], "slide");
  r = testing::run_deeplab("eval-semantic --gt " + data + "/gtFine/val --pred " + dir.path() +
                           "/pred --label-map cityscapes-ids --json " + dir.file("official.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json official = read_json_file(dir.file("official.json"));
  EXPECT_NEAR(official["mIoU"].get<double>(), ours["mIoU"].get<double>(), 1e-12);
  // deeplab eval scores cityscapesScripts' iIoU and categories itself, from the instance ids.
  for (const char* key : {"iIoU", "category_mIoU", "category_iIoU"}) {
    ASSERT_TRUE(ours.contains(key) && ours[key].is_number()) << key << " in " << ours.dump().substr(0, 300);
    EXPECT_NEAR(ours[key].get<double>(), official[key].get<double>(), 1e-9) << key;
  }
  EXPECT_GT(ours["iIoU"].get<double>(), 0.0) << "no instance was hit: the comparison would prove little";
  // Two shards merged give the same numbers.
  const std::string eval = "eval -c " + config + " --weights " + weights +
                           " --no-progress --set eval.mode=slide --set eval.window=[48,48] --set eval.scales=[0.75,1.0]"
                           " --set eval.flip=true";
  for (int rank = 0; rank < 2; ++rank) {
    r = testing::run_deeplab(eval + " --rank " + std::to_string(rank) + " --world-size 2 --json " +
                             dir.file("shard" + std::to_string(rank) + ".json"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  r = testing::run_deeplab("eval-merge " + dir.file("shard0.json") + " " + dir.file("shard1.json") + " --json " +
                           dir.file("merged.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json merged = read_json_file(dir.file("merged.json"));
  for (const char* key : {"mIoU", "iIoU", "category_mIoU", "category_iIoU"}) {
    EXPECT_NEAR(merged[key].get<double>(), ours[key].get<double>(), 1e-12) << key;
  }

  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir.path() + "/pred")) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  ASSERT_EQ(files.size(), 3u);
  for (const auto& f : files) EXPECT_NE(f.find("_labelIds.png"), std::string::npos) << f;
  if (!fs::exists(deeplab::testing::oracle_python()) ||
      testing::run_shell(deeplab::testing::oracle_python() + " -c 'import PIL, numpy'") != 0) {
    GTEST_SKIP() << "PIL not available: formats not confirmed";
  }
  std::string out;
  std::string cmd = deeplab::testing::oracle_python() + " " + source_path("scripts/fixtures/check_pngs.py");
  for (const auto& f : files) cmd += " " + f;
  ASSERT_EQ(testing::run_shell(cmd, &out), 0) << out;
  const std::set<int> train_label_ids{7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33};
  std::istringstream lines(out);
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    EXPECT_NE(line.find("mode=L bits=8 size=128x64"), std::string::npos) << line;
    std::istringstream values(line.substr(line.find("values=") + 7));
    for (std::string v; std::getline(values, v, ',');) EXPECT_TRUE(train_label_ids.count(std::stoi(v))) << line;
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(EvalCli, RankWithoutWorldSizeIsAnError) {
  const auto r = testing::run_deeplab("eval -c " + source_path("configs/quickstart/synthetic_voc.yaml") +
                                      " --weights none.pth --rank 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("error: eval: give --rank and --world-size together"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace deeplab::eval
