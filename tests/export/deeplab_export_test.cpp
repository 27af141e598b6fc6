// The DeepLab models through `deeplab import` and `deeplab export`: torchvision
// weights converted by the CLI, a TorchScript file that Python and C++ run at
// sizes other than the traced one, VGG's fc6/fc7 decimation, and parameter
// counts equal to torchvision's.

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "deeplab/core/config_io.h"
#include "deeplab/core/error.h"
#include "deeplab/export/torchscript.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/summary.h"
#include "deeplab/weights/model_io.h"
#include "deeplab/weights/pretrained_import.h"
#include "deeplab/weights/torchvision_import.h"
#include "tests/support/test_support.h"
#include "tests/weights/export_fixtures.h"

namespace deeplab::exporting {
namespace {

std::string parity_fixture(const std::string& name) {
  const std::string dir = testing::python_fixture_dir("torchvision_parity.py");
  return dir.empty() ? "" : dir + "/" + name;
}

std::string config_path(const std::string& name) { return testing::source_dir() + "/configs/torchvision/" + name; }

TEST(DeepLabExport, ImportThenExportRunsInPythonAndCppAtOtherSizes) {
  const std::string pth = parity_fixture("deeplabv3_mobilenet_v3_large_aux.pth");
  if (pth.empty()) GTEST_SKIP() << "the oracle Python with torchvision not available";
  testing::TempDir dir;
  const std::string weights = dir.file("ours.pth"), script = dir.file("model.pt");
  const std::string config = config_path("deeplabv3_mobilenet_v3_large.yaml");
  auto result =
      testing::run_deeplab("import --from torchvision --arch deeplabv3_mobilenet_v3_large " + pth + " " + weights);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result =
      testing::run_deeplab("export -c " + config + " --weights " + weights + " -o " + script + " --input-size 97 129");
  ASSERT_EQ(result.exit_code, 0) << result.output;

  models::DeepLab model = weights::load_model(core::load_config_section<models::ModelConfig>(config, "model"), weights);
  model->eval();
  c10::Dict<std::string, torch::Tensor> inputs;
  inputs.insert("a", torch::randn({1, 3, 65, 81}));
  inputs.insert("b", torch::randn({2, 3, 120, 57}));
  const std::string in_path = dir.file("in.pt"), out_path = dir.file("out.pt");
  testing::save_plain_dict(inputs, in_path);
  std::string log;
  ASSERT_EQ(testing::run_fixture_script("run-script " + script + " " + in_path + " " + out_path, &log), 0) << log;
  const auto outputs = testing::load_plain_dict(out_path);
  torch::jit::Module loaded = torch::jit::load(script);
  torch::NoGradGuard no_grad;
  for (const char* name : {"a", "b"}) {
    SCOPED_TRACE(name);
    const torch::Tensor expected = model->forward(inputs.at(name));
    EXPECT_GT(expected.std().item<double>(), 0.1);
    EXPECT_TRUE(testing::close_enough(outputs.at(name).toTensor(), expected));
    EXPECT_TRUE(testing::close_enough(loaded.forward({inputs.at(name)}).toTensor(), expected));
  }
  const auto meta = read_export_metadata(script);
  EXPECT_EQ(meta.arch, "deeplabv3/mobilenet_v3_large/os16");
  EXPECT_EQ(meta.class_names.size(), 21u);
  EXPECT_EQ(meta.class_names[15], "person");
  EXPECT_EQ(meta.extra.at("normalization"), "imagenet");
  ASSERT_EQ(meta.palette.size(), 21u);
  EXPECT_EQ(meta.palette[15], (std::vector<int>{192, 128, 128})) << "VOC's person colour";
  // Negative control: a perturbed C++ model no longer matches Python's output.
  model->named_parameters()["classifier.4.weight"].add_(0.1);
  EXPECT_FALSE(testing::close_enough(outputs.at("a").toTensor(), model->forward(inputs.at("a"))));
}

TEST(DeepLabExport, ImportRejectsAnotherFamilyInOneLine) {
  const std::string pth = parity_fixture("resnet50_features.pth");
  if (pth.empty()) GTEST_SKIP() << "the oracle Python with torchvision not available";
  testing::TempDir dir;
  const auto result =
      testing::run_deeplab("import --from torchvision --arch mobilenet_v2 " + pth + " " + dir.file("x"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("holds ResNet ImageNet weights, but the backbone is mobilenet_v2"), std::string::npos)
      << result.output;
}

TEST(DeepLabExport, ImageNetBackboneFillsTheBackboneOnly) {
  const std::string pth = parity_fixture("resnet50_features.pth");
  if (pth.empty()) GTEST_SKIP() << "the oracle Python with torchvision not available";
  models::DeepLab model = models::build_model(weights::torchvision_model_config("resnet50", 21, false));
  const auto report = weights::import_pretrained(*model, pth, "resnet50");
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  for (const auto& key : report.missing) EXPECT_EQ(key.rfind("classifier.", 0), 0u) << key;
  const auto source = weights::read_state_dict(pth);
  EXPECT_TRUE(torch::equal(model->named_parameters()["backbone.layer4.2.conv3.weight"],
                           std::find_if(source.begin(), source.end(), [](const auto& e) {
                             return e.first == "layer4.2.conv3.weight";
                           })->second));
}

// TF DeepLab's MobileNet-V2 stops at layer_18 (final_conv: false): torchvision's
// ImageNet file fills every layer but its closing 1280 conv, which is left out.
TEST(DeepLabExport, MobileNetV2WithoutFinalConvTakesTorchvisionWeightsUpToLayer17) {
  const std::string pth = parity_fixture("mobilenet_v2_features.pth");
  if (pth.empty()) GTEST_SKIP() << "the oracle Python with torchvision not available";
  models::ModelConfig c;
  c.arch = "deeplabv3";
  c.num_classes = 21;
  c.backbone.name = "mobilenet_v2";
  c.backbone.final_conv = false;
  models::DeepLab model = models::build_model(c);
  const auto report = weights::import_pretrained(*model, pth, "mobilenet_v2");
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  for (const auto& key : report.missing) EXPECT_EQ(key.rfind("classifier.", 0), 0u) << key;
  const auto params = model->named_parameters();
  EXPECT_FALSE(params.contains("backbone.18.0.weight"));
  const auto source = weights::read_state_dict(pth);
  const auto tensor = [&](const std::string& key) {
    return std::find_if(source.begin(), source.end(), [&](const auto& e) { return e.first == key; })->second;
  };
  EXPECT_TRUE(torch::equal(params["backbone.17.conv.2.weight"], tensor("features.17.conv.2.weight")));
  // A mismatch elsewhere is still an error: a V3 file into the V2 model.
  EXPECT_THROW(weights::import_pretrained(*model, parity_fixture("mobilenet_v3_large_features.pth"), "mobilenet_v2"),
               Error);
}

// DeepLab-LargeFOV: fc6 keeps outputs 0, 4, 8 ... and kernel taps 0, 3, 6 of
// the 7x7 window; fc7 keeps every 4th row and column.
TEST(DeepLabExport, VggFullyConnectedLayersAreDecimatedIntoLargeFov) {
  models::DeepLab model = models::build_model(weights::torchvision_model_config("vgg16", 21, false));
  weights::StateDict vgg;
  for (const auto& [key, tensor] : weights::module_state_dict(model->backbone()))
    vgg.emplace_back("features." + key, tensor);
  const auto fc6 = torch::arange(4096L * 25088).to(torch::kFloat).reshape({4096, 25088});
  vgg.emplace_back("classifier.0.weight", fc6);
  vgg.emplace_back("classifier.0.bias", torch::arange(4096).to(torch::kFloat));
  vgg.emplace_back("classifier.3.weight", torch::arange(4096L * 4096).to(torch::kFloat).reshape({4096, 4096}));
  vgg.emplace_back("classifier.3.bias", torch::arange(4096).to(torch::kFloat));
  const weights::StateDict ours = weights::torchvision_to_ours(vgg, weights::TorchvisionKind::kVgg, *model);
  std::map<std::string, torch::Tensor> by_name(ours.begin(), ours.end());
  const auto w6 = by_name.at("classifier.fc6.weight");
  ASSERT_EQ(w6.sizes(), torch::IntArrayRef({1024, 512, 3, 3}));
  // element (o, c, i, j) of the 3x3 kernel = fc6[4o][c*49 + 3i*7 + 3j]
  const auto expect6 = [](int64_t o, int64_t c, int64_t i, int64_t j) {
    return static_cast<float>(4 * o * 25088 + c * 49 + 3 * i * 7 + 3 * j);
  };
  EXPECT_EQ(w6[0][0][0][0].item<float>(), expect6(0, 0, 0, 0));
  EXPECT_EQ(w6[1][2][1][2].item<float>(), expect6(1, 2, 1, 2));
  EXPECT_EQ(w6[1023][511][2][2].item<float>(), expect6(1023, 511, 2, 2));
  EXPECT_EQ(by_name.at("classifier.fc6.bias")[5].item<float>(), 20.0f);
  const auto w7 = by_name.at("classifier.fc7.weight");
  ASSERT_EQ(w7.sizes(), torch::IntArrayRef({1024, 1024, 1, 1}));
  EXPECT_EQ(w7[3][5][0][0].item<float>(), static_cast<float>(12 * 4096 + 20));
  weights::LoadOptions partial;
  partial.strict = false;
  partial.source = "vgg";
  EXPECT_NO_THROW(weights::load_state_dict(*model, ours, partial));
}

// torchvision's documented parameter counts (aux heads included for r101/mbv3;
// the fixture script prints the same numbers from the real models).
TEST(DeepLabExport, ParameterCountsEqualTorchvision) {
  struct Case {
    const char* arch;
    bool aux;
    int64_t parameters;
  };
  for (const Case& c :
       {Case{"deeplabv3_resnet50", false, 39638869}, Case{"deeplabv3_resnet50", true, 42004074},
        Case{"deeplabv3_resnet101", true, 60996202}, Case{"deeplabv3_mobilenet_v3_large", true, 11029328}}) {
    SCOPED_TRACE(c.arch);
    models::DeepLab model = models::build_model(weights::torchvision_model_config(c.arch, 21, c.aux));
    int64_t count = 0;
    for (const auto& p : model->parameters()) count += p.numel();
    EXPECT_EQ(count, c.parameters);
  }
}

TEST(DeepLabExport, ModelSummaryCountsParametersAndMacs) {
  const auto result = testing::run_deeplab("model summary -c " + config_path("deeplabv3_resnet101.yaml") +
                                           " --input-size 65 97 --depth 1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("total parameters: 60,996,202"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("output stride: 8"), std::string::npos) << result.output;
  models::ModelConfig tiny;
  tiny.backbone.name = "mobilenet_v3_small";
  models::DeepLab model = models::build_model(tiny);
  const auto at_64 = models::summarize(*model, 64, 64), at_128 = models::summarize(*model, 128, 128);
  EXPECT_GT(at_64.conv_macs, 0);
  // Convolution work grows with the pixel count (image pooling aside): ~4x.
  EXPECT_NEAR(at_128.conv_macs / at_64.conv_macs, 4.0, 0.2);
}

}  // namespace
}  // namespace deeplab::exporting

namespace deeplab::exporting {
namespace {

TEST(LoadReportSummary, ListsAtMostTwentyKeysPerKind) {
  weights::LoadReport report;
  for (int i = 0; i < 25; ++i) report.missing.push_back("backbone.key" + std::to_string(i));
  const std::string text = report.summary();
  EXPECT_NE(text.find("missing keys (25)"), std::string::npos) << text;
  EXPECT_NE(text.find("backbone.key19"), std::string::npos);
  EXPECT_EQ(text.find("backbone.key20"), std::string::npos);
  EXPECT_NE(text.find("... and 5 more"), std::string::npos) << text;
}

}  // namespace
}  // namespace deeplab::exporting
