// kMaX-DeepLab (mask-wise merging) and MaX-DeepLab (pixel-wise) end to end
// through the CLI on a small model trained 10 steps:
// `deeplab eval` reports the PQ that `deeplab eval-panoptic` computes from
// its saved files (to 1e-9); `deeplab predict` from the checkpoint writes
// eval's panoptic PNGs; the TorchScript export (fixed-size, mask-wise
// settings in meta.json) predicts the same PNGs and JSON as the checkpoint,
// so eval and predict give one PQ from either.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
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

constexpr size_t kValImages = 8;  // of the 16 synthetic scenes, --val-fraction 0.5

std::string tiny_kmax_config(const testing::TempDir& dir, const std::string& root) {
  std::ostringstream yaml;
  yaml << "_base_: [" << source_path("configs/_base_/default_runtime.yaml") << "]\n"
       << "model: {arch: kmax_deeplab, num_classes: 19, align_corners: true,\n"
       << "  backbone: {name: mobilenet_v2, output_stride: 32},\n"
       << "  kmax: {slots: 4, drop_path_keep: 1.0, semantic_decoder: false,\n"
       << "         decoder_dims: [32, 32, 16, 8], decoder_blocks: [1, 1, 1, 1]}}\n"
       << "data: {dataset: cityscapes_panoptic, root: " << root
       << ", crop_size: [65, 129], batch_size: 4, workers: 1,\n"
       // A few steps leave the classes unsure (the void prior): thresholds of 0
       // paint every slot's mask, so there are segments to compare.
       << "  panoptic: {small_instance_area: 32, mask: {thing_area_limit: 4, stuff_area_limit: 16,\n"
       << "             pixel_confidence_threshold: 0.2, class_threshold_thing: 0.0,\n"
       << "             class_threshold_stuff: 0.0, overlap_threshold: 0.3}}}\n"
       << "train: {max_iters: 10, lr: 0.002, optimizer: {name: adamw}, log_every: 5, checkpoint_every: 1000,\n"
       << "  loss: {instance_sample_k: 256}}\n"
       << "export: {input_size: [65, 129]}\n"
       << "runtime: {threads: " << testing::test_threads(2) << ", seed: " << testing::test_seed(0) << "}\n";
  return dir.write("exp.yaml", yaml.str());
}

// MaX-DeepLab-S's structure at an eighth of its width and a third of its
// units; pixel-wise merging with a class threshold of 0 for the same reason.
std::string tiny_max_config(const testing::TempDir& dir, const std::string& root) {
  std::ostringstream yaml;
  yaml << "_base_: [" << source_path("configs/_base_/default_runtime.yaml") << "]\n"
       << "model: {arch: max_deeplab, num_classes: 19, align_corners: true,\n"
       << "  backbone: {name: max_deeplab_s_backbone, output_stride: 16, width_mult: 0.125, stem_width_mult: 0.25,\n"
       << "             layer_mult: 0.34},\n"
       << "  max: {slots: 4, memory_channels: 32, transformer_expansion: 0.25, ffn_channels: 64,\n"
       << "        slot_feature_channels: 32, embedding_channels: 16, head_channels: 32, semantic_projections: [8, "
          "8]}}\n"
       << "data: {dataset: cityscapes_panoptic, root: " << root
       << ", crop_size: [65, 129], batch_size: 4, workers: 1,\n"
       << "  panoptic: {small_instance_area: 32, mask: {mode: pixelwise, class_threshold: 0.0,\n"
       << "             pixel_confidence_threshold: 0.2, thing_area_limit: 4, stuff_area_limit: 16}}}\n"
       << "train: {max_iters: 10, lr: 0.002, optimizer: {name: adam}, log_every: 5, checkpoint_every: 1000,\n"
       << "  loss: {instance_sample_k: 256}}\n"
       << "export: {input_size: [65, 129]}\n"
       << "runtime: {threads: " << testing::test_threads(2) << ", seed: " << testing::test_seed(0) << "}\n";
  return dir.write("exp.yaml", yaml.str());
}

std::multiset<std::string> png_contents(const std::string& folder) {
  std::multiset<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    if (e.path().extension() == ".png") out.insert(core::read_file(e.path().string()));
  }
  return out;
}

using ConfigWriter = std::string (*)(const testing::TempDir&, const std::string&);

void expect_eval_predict_and_export_agree(ConfigWriter write_config) {
  testing::TempDir dir;
  const std::string root = dir.path() + "/cityscapes";
  auto r = testing::run_deeplab("data synth --layout cityscapes --out " + root +
                                " --num 16 --val-fraction 0.5 --size 64x128 --seed 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string config = write_config(dir, root);
  r = testing::run_deeplab("train -c " + config + " --work-dir " + dir.path() + "/run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string weights = dir.path() + "/run/final.pth";

  const std::string pred = dir.path() + "/pred";
  r = testing::run_deeplab("eval -c " + config + " --weights " + weights + " --json " + dir.file("eval.json") +
                           " --save-pred " + pred + " --no-progress");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json ours = read_json_file(dir.file("eval.json"));
  ASSERT_TRUE(ours.contains("PQ")) << ours.dump();
  r = testing::run_deeplab("data cityscapes-panoptic --root " + root + " --split val --output " + dir.path() + "/gt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("eval-panoptic --gt-json " + dir.path() + "/gt/cityscapes_panoptic_val.json --gt-dir " +
                           dir.path() + "/gt/cityscapes_panoptic_val --pred-json " + pred +
                           "/panoptic.json --pred-dir " + pred + "/panoptic --json " + dir.file("files.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json files = read_json_file(dir.file("files.json"));
  for (const char* group : {"All", "Things", "Stuff"}) {
    EXPECT_NEAR(ours.at("panoptic").at(group).at("pq").get<double>(), files.at(group).at("pq").get<double>(), 1e-9)
        << group;
  }
  const auto eval_pngs = png_contents(pred + "/panoptic");
  EXPECT_EQ(eval_pngs.size(), kValImages);

  r = testing::run_deeplab("export -c " + config + " --weights " + weights + " -o " + dir.file("m.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string val = root + "/leftImg8bit/val --no-progress --no-channels-last --out ";
  r = testing::run_deeplab("predict -c " + config + " --weights " + weights + " " + val + dir.path() + "/from_config");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_deeplab("predict --model " + dir.file("m.pt") + " " + val + dir.path() + "/from_export");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(png_contents(dir.path() + "/from_config/panoptic"), eval_pngs);
  EXPECT_EQ(png_contents(dir.path() + "/from_export/panoptic"), eval_pngs);
  const json from_export = read_json_file(dir.path() + "/from_export/panoptic.json");
  const json from_config = read_json_file(dir.path() + "/from_config/panoptic.json");
  EXPECT_EQ(from_export.at("annotations").size(), kValImages);
  EXPECT_EQ(from_export.at("annotations"), from_config.at("annotations"));
  // Segments were predicted at all (else equality would prove little).
  size_t segments = 0;
  for (const auto& a : from_config.at("annotations")) segments += a.at("segments_info").size();
  EXPECT_GE(segments, kValImages) << from_config.dump();

  // Test-time augmentation cannot average slots: a clear error, not a wrong map.
  r = testing::run_deeplab("eval -c " + config + " --weights " + weights + " --no-progress --set eval.flip=true");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("eval.flip"), std::string::npos) << r.output;
}

TEST(KMaXCli, EvalPredictAndTheExportGiveTheSamePanopticResult) {
  expect_eval_predict_and_export_agree(tiny_kmax_config);
}

TEST(MaXCli, EvalPredictAndTheExportGiveTheSamePanopticResult) {
  expect_eval_predict_and_export_agree(tiny_max_config);
}

}  // namespace
}  // namespace deeplab::eval
