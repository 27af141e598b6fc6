// ONNX export (scripts/export_onnx.py) checked by ONNX Runtime: for a shipped
// config of every backbone, and Panoptic-DeepLab's named outputs, the .onnx
// file run by ONNX Runtime (PyPI, the tools venv) equals LibTorch running the
// TorchScript export within 1e-4 relative (max|a - b| / max|b|), at two input
// sizes other than the traced one and at batch 1 and 2: batch, height and
// width are dynamic.  The exporter is the oracle Python's torch.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "deeplab/experiment/config.h"
#include "deeplab/export/model_metadata.h"
#include "deeplab/export/panoptic_export.h"
#include "deeplab/export/torchscript.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/fold_batch_norm.h"
#include "tests/support/test_support.h"

namespace deeplab::exporting {
namespace {

struct Size {
  int64_t batch, height, width;
};
constexpr Size kTraced{1, 65, 65};
const std::vector<Size> kChecked = {{1, 97, 129}, {2, 81, 65}};

void write_raw(const torch::Tensor& t, const std::string& path) {
  const torch::Tensor c = t.to(torch::kFloat).contiguous();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(c.data_ptr<float>()),
             static_cast<std::streamsize>(c.numel() * sizeof(float)));
}

nlohmann::json entry(const torch::Tensor& t, const std::string& path) {
  write_raw(t, path);
  return {{"path", path}, {"shape", t.sizes().vec()}};
}

// Exports `config_path`'s model (random weights) to TorchScript, runs it in
// LibTorch at the checked sizes, converts it to ONNX and returns ONNX
// Runtime's report (onnx_compare.py).
nlohmann::json export_and_compare(const std::string& config_path, const testing::TempDir& dir) {
  const experiment::Config config =
      experiment::load_config(testing::source_dir() + "/configs/" + config_path, {"model.backbone.pretrained=null"});
  torch::manual_seed(0);
  models::DeepLab model = models::build_model(config.model);
  model->eval();
  if (config.export_.fold_bn) models::fold_batch_norms(*model);
  const std::string pt = dir.file("model.pt"), onnx = dir.file("model.onnx");
  const auto meta = export_metadata(config.model, config.data, kTraced.height, kTraced.width);
  export_torchscript(*model, export_forward(config.model, model), torch::zeros({1, 3, kTraced.height, kTraced.width}),
                     meta, pt);

  torch::jit::Module module = torch::jit::load(pt);
  nlohmann::json cases = nlohmann::json::array();
  for (size_t i = 0; i < kChecked.size(); ++i) {
    const Size s = kChecked[i];
    const torch::Tensor images = torch::randn({s.batch, 3, s.height, s.width});
    const std::string stem = dir.file("case" + std::to_string(i));
    nlohmann::json outputs;
    const c10::IValue out = module.forward({images});
    if (out.isGenericDict()) {
      for (const auto& item : out.toGenericDict()) {
        const std::string name = item.key().toStringRef();
        outputs[name] = entry(item.value().toTensor(), stem + "_" + name + ".bin");
      }
    } else {
      outputs["logits"] = entry(out.toTensor(), stem + "_logits.bin");
    }
    cases.push_back({{"input", entry(images, stem + "_input.bin")}, {"outputs", outputs}});
  }
  std::ofstream(dir.file("cases.json")) << cases.dump();

  std::string output;
  const std::string exporter = testing::oracle_python() + " " + testing::source_dir() + "/scripts/export_onnx.py " +
                               pt + " " + onnx + " --opset 17";
  EXPECT_EQ(testing::run_shell(exporter, &output), 0) << output;
  EXPECT_NE(output.find("model.meta.json"), std::string::npos) << output;
  const std::string compare = testing::tools_python() + " " + testing::source_dir() +
                              "/scripts/fixtures/onnx_compare.py " + onnx + " " + dir.file("cases.json");
  EXPECT_EQ(testing::run_shell(compare, &output), 0) << output;
  return nlohmann::json::parse(output.substr(output.find('{')));
}

class OnnxExport : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!testing::have_python_oracle()) GTEST_SKIP() << testing::oracle_python() << " has no torch to export with";
    if (!testing::tools_python_has("onnxruntime, numpy")) {
      GTEST_SKIP() << testing::tools_python() << " has no onnxruntime (scripts/setup.sh installs it from PyPI)";
    }
  }
};

TEST_P(OnnxExport, OnnxRuntimeEqualsLibTorchAtOtherSizesAndBatches) {
  testing::TempDir dir;
  const nlohmann::json report = export_and_compare(GetParam(), dir);
  ASSERT_EQ(report["cases"].size(), kChecked.size());
  for (size_t i = 0; i < kChecked.size(); ++i) {
    for (const auto& [name, error] : report["cases"][i].items()) {
      ASSERT_TRUE(error.is_number()) << GetParam() << " case " << i << " " << name << ": " << error;
      std::printf("%s %s case %zu: max relative difference %.2e\n", GetParam().c_str(), name.c_str(), i,
                  error.get<double>());
      EXPECT_LE(error.get<double>(), 1e-4) << GetParam() << " case " << i << " output " << name;
    }
  }
  std::ifstream meta(dir.file("model.meta.json"));
  ASSERT_TRUE(meta.good());
  const auto j = nlohmann::json::parse(meta);
  EXPECT_EQ(j["onnx"]["opset"], 17);
  EXPECT_FALSE(j["class_names"].empty());
}

// One shipped config per backbone (the ImageNet backbones and torchvision's
// layouts), and Panoptic-DeepLab for the named outputs.
INSTANTIATE_TEST_SUITE_P(
    EveryBackbone, OnnxExport,
    ::testing::Values("voc/deeplabv1_vgg16_largefov_voc.yaml", "voc/deeplabv2_resnet101_msc_voc.yaml",
                      "torchvision/deeplabv3_resnet50.yaml", "voc/deeplabv3plus_mobilenet_v2_os16_voc.yaml",
                      "torchvision/deeplabv3_mobilenet_v3_large.yaml", "voc/deeplabv3plus_xception65_os16_voc.yaml",
                      "cityscapes/panoptic_deeplab_resnet50_os32_cityscapes.yaml"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = std::filesystem::path(info.param).stem().string();
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace deeplab::exporting
