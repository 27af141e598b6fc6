// Exported Panoptic-DeepLab: the TorchScript file returns the dict of named
// outputs, equal to the C++ model at a size other than the traced one (so the
// offsets' rescale is read from the input at run time, not baked in), in C++
// and in Python; the metadata gives back the post-processing settings.

#include "deeplab/export/panoptic_export.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/export/exported_model.h"
#include "deeplab/export/model_metadata.h"
#include "deeplab/models/factory.h"
#include "deeplab/postprocess/mask_panoptic.h"
#include "tests/support/test_support.h"
#include "tests/weights/export_fixtures.h"

namespace deeplab::exporting {
namespace {

models::ModelConfig tiny_panoptic() {
  models::ModelConfig c;
  c.arch = "panoptic_deeplab";
  c.num_classes = 5;
  c.align_corners = true;
  c.backbone.name = "mobilenet_v3_small";
  c.head.channels = 32;
  c.panoptic.semantic_decoder_channels = 32;
  c.panoptic.semantic_head_channels = 32;
  c.panoptic.instance_decoder_channels = 16;
  c.panoptic.instance_head_channels = 16;
  return c;
}

ExportMetadata panoptic_metadata() {
  ExportMetadata meta;
  meta.arch = "panoptic_deeplab/mobilenet_v3_small/os16";
  meta.class_names = {"a", "b", "c", "d", "e"};
  meta.mean = {0.5, 0.5, 0.5};
  meta.std = {0.25, 0.25, 0.25};
  meta.input_size = {64, 96};
  data::DataConfig data;
  data.panoptic.nms_kernel = 7;
  data.panoptic.top_k = 200;
  data::DatasetDescriptor descriptor;
  descriptor.things = {3, 4};
  add_panoptic_metadata(meta, data, descriptor);
  return meta;
}

TEST(PanopticExport, TorchScriptReturnsTheNamedOutputsAtAnySize) {
  torch::manual_seed(0);
  const models::ModelConfig config = tiny_panoptic();
  models::DeepLab model = models::build_model(config);
  model->eval();
  testing::TempDir dir;
  const std::string path = dir.file("panoptic.pt");
  export_torchscript(*model, export_forward(config, model), torch::zeros({1, 3, 64, 96}), panoptic_metadata(), path);

  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, 81, 121});  // not the traced size: the offset scale differs
  const auto expected = model->forward_outputs(x);
  torch::jit::Module loaded = torch::jit::load(path);
  const auto out = loaded.forward({x}).toGenericDict();
  ASSERT_EQ(out.size(), 3u);
  for (const char* name : {"semantic", "center", "offset"}) {
    SCOPED_TRACE(name);
    const auto value = out.at(name).toTensor();
    EXPECT_EQ(value.sizes(), expected.at(name).value.sizes());
    EXPECT_TRUE(testing::close_enough(value, expected.at(name).value));
  }
  // Offsets are not all zero, so the comparison above tested their rescale.
  EXPECT_GT(expected.at("offset").value.abs().max().item<double>(), 0.0);

  const auto options = panoptic_options_from_metadata(read_export_metadata(path));
  EXPECT_EQ(options.thing_ids, (std::vector<int>{3, 4}));
  EXPECT_EQ(options.nms_kernel, 7);
  EXPECT_EQ(options.top_k, 200);
  EXPECT_EQ(options.stuff_area, 2048);
  EXPECT_EQ(options.label_divisor, 1000);
  EXPECT_DOUBLE_EQ(options.center_threshold, 0.1);
  const auto predictions = postprocess::panoptic_from_batch(out.at("semantic").toTensor(), out.at("center").toTensor(),
                                                            out.at("offset").toTensor(), options);
  ASSERT_EQ(predictions.size(), 1u);
  EXPECT_EQ(predictions[0].panoptic.sizes(), (std::vector<int64_t>{81, 121}));

  // Python loads it and gets the same dict.
  if (testing::export_fixture_dir().empty()) GTEST_SKIP() << "no oracle Python with torch: Python side not checked";
  c10::Dict<std::string, torch::Tensor> inputs;
  inputs.insert("x", x);
  inputs.insert("y", torch::randn({1, 3, 64, 96}));
  const std::string in_path = dir.file("in.pt"), out_path = dir.file("out.pt");
  testing::save_plain_dict(inputs, in_path);
  std::string log;
  ASSERT_EQ(testing::run_fixture_script("run-script " + path + " " + in_path + " " + out_path, &log), 0) << log;
  const auto python = testing::load_plain_dict(out_path);
  for (const char* name : {"semantic", "center", "offset"}) {
    EXPECT_TRUE(testing::close_enough(python.at(std::string("x.") + name).toTensor(), expected.at(name).value)) << name;
  }
}

// kMaX-DeepLab: its axial attention is traced at the export size, so the
// file runs at that size (meta.json fixed_input_size) and ExportedModel pads a
// smaller input to it; the outputs equal the model's on the padded input,
// cropped; the metadata carries the mask-wise settings and the merged result
// equals the model's.
TEST(PanopticExport, KMaXExportRunsAtItsSizeWithMaskAndClassLogits) {
  torch::manual_seed(0);
  models::ModelConfig config;
  config.arch = "kmax_deeplab";
  config.num_classes = 5;
  config.align_corners = true;
  config.backbone.name = "mobilenet_v2";
  config.backbone.output_stride = 32;
  config.kmax.slots = 6;
  config.kmax.decoder_dims = {16, 16, 8, 8};
  config.kmax.decoder_blocks = {1, 1, 1, 1};
  config.kmax.semantic_decoder = false;
  models::DeepLab model = models::build_model(config);
  model->eval();
  data::DataConfig data;
  data.panoptic.mask.class_threshold_thing = 0.7;
  data.panoptic.mask.thing_area_limit = 400;
  data::DatasetDescriptor descriptor;
  descriptor.things = {3, 4};
  ExportMetadata meta = panoptic_metadata();  // 64 x 96
  add_panoptic_metadata(meta, data, descriptor, /*mask_wise=*/true);
  meta.extra["fixed_input_size"] = "true";
  // What `deeplab export` writes for a kMaX config says so itself.
  models::ModelConfig cityscapes = config;
  cityscapes.num_classes = 19;
  data::DataConfig cityscapes_data;
  cityscapes_data.dataset = "cityscapes_panoptic";
  EXPECT_EQ(export_metadata(cityscapes, cityscapes_data, 64, 96).extra.at("fixed_input_size"), "true");
  testing::TempDir dir;
  const std::string path = dir.file("kmax.pt");
  export_torchscript(*model, export_forward(config, model), torch::zeros({1, 3, 64, 96}), meta, path);

  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, 57, 81});
  models::ModelOutputs expected = model->forward_outputs(torch::constant_pad_nd(x, {0, 15, 0, 7}, 0.0));
  for (auto& [name, output] : expected) models::crop_padded_output(output, 64, 57, 81);
  ExportedModel exported(path, torch::kCPU);
  const models::ModelOutputs out = exported.outputs(x);
  ASSERT_EQ(out.size(), 4u);
  for (const char* name : {"semantic", "mask_logits", "class_logits", "pixel_embedding"}) {
    SCOPED_TRACE(name);
    const auto& value = out.at(name).value;
    EXPECT_EQ(value.sizes(), expected.at(name).value.sizes());
    EXPECT_EQ(out.at(name).kind, expected.at(name).kind);
    EXPECT_TRUE(testing::close_enough(value, expected.at(name).value));
  }
  EXPECT_EQ(out.at("mask_logits").value.size(2), 15);  // ceil(57 / 4)
  EXPECT_THROW(exported.outputs(torch::zeros({1, 3, 65, 96})), DataError);

  const auto options = panoptic_options_from_metadata(exported.meta());
  ASSERT_TRUE(options.mask_wise.has_value());
  EXPECT_DOUBLE_EQ(options.mask_wise->class_threshold_thing, 0.7);
  EXPECT_EQ(options.mask_wise->thing_area_limit, 400);
  EXPECT_EQ(options.mask_wise->thing_ids, descriptor.things);
  const auto from_export = postprocess::mask_panoptic_batch(out.at("mask_logits").value, out.at("class_logits").value,
                                                            *options.mask_wise, 57, 81);
  const auto from_model = postprocess::mask_panoptic_batch(
      expected.at("mask_logits").value, expected.at("class_logits").value, *options.mask_wise, 57, 81);
  for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(torch::equal(from_export[i].panoptic, from_model[i].panoptic)) << i;
}

TEST(PanopticExport, MetadataOfASemanticModelHasNoPanopticSettings) {
  ExportMetadata meta;
  EXPECT_THROW(panoptic_options_from_metadata(meta), DataError);
}

// A dataset with a label_map (Cityscapes: train id 11 is label id 24,
// person) saves its category ids in the export, and predict --model's
// descriptor gets them back; without a label_map the train ids stay.
TEST(PanopticExport, CategoryIdsOfALabelMapTravelInTheMetadata) {
  data::DatasetDescriptor dataset;
  dataset.classes = {"road", "person", "car"};
  dataset.things = {1, 2};
  dataset.has_label_map = true;
  dataset.train_to_raw.assign(256, 0);
  dataset.train_to_raw[0] = 7;
  dataset.train_to_raw[1] = 24;
  dataset.train_to_raw[2] = 26;
  ExportMetadata meta;
  add_panoptic_metadata(meta, data::DataConfig{}, dataset);
  EXPECT_EQ(meta.extra.at("panoptic.category_ids"), "7,24,26");
  data::DatasetDescriptor from_file;
  from_file.classes = dataset.classes;
  apply_panoptic_category_ids(metadata_from_json(metadata_to_json(meta), "meta.json"), from_file);
  EXPECT_TRUE(from_file.has_label_map);
  EXPECT_EQ(from_file.train_to_raw, dataset.train_to_raw);

  data::DatasetDescriptor plain;
  plain.classes = dataset.classes;
  apply_panoptic_category_ids(panoptic_metadata(), plain);
  EXPECT_FALSE(plain.has_label_map);

  for (const std::string bad : {"7,24", "7,x,26", "7,24,300"}) {
    meta.extra["panoptic.category_ids"] = bad;
    data::DatasetDescriptor d;
    d.classes = dataset.classes;
    try {
      apply_panoptic_category_ids(meta, d);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("panoptic.category_ids"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace deeplab::exporting
