// The one entry point for starting weights: a missing file says what belongs
// there and how to make it, and "no file" trains from scratch.

#include "deeplab/weights/pretrained_import.h"

#include <gtest/gtest.h>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/weights/model_io.h"
#include "tests/support/test_support.h"

namespace deeplab::weights {
namespace {

models::ModelConfig small_config(const std::string& backbone) {
  models::ModelConfig c;
  c.arch = "deeplabv3";
  c.num_classes = 3;
  c.backbone.name = backbone;
  return c;
}

std::string error_of(const models::ModelConfig& config) {
  models::DeepLab model = models::build_model(config);
  try {
    initialise_model(*model, config);
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError for pretrained '" << config.backbone.pretrained << "'";
  return "";
}

void expect_contains(const std::string& text, const std::vector<std::string>& parts) {
  for (const auto& part : parts) EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

TEST(PretrainedImport, MissingTorchvisionFileNamesItTheFileExpectedImportAndScratch) {
  testing::TempDir dir;
  models::ModelConfig config = small_config("resnet50");
  config.backbone.pretrained = dir.file("weights/resnet50.pth");
  expect_contains(error_of(config), {"model.backbone.pretrained: '" + config.backbone.pretrained + "' does not exist",
                                     "resnet50-0676ba61.pth", "deeplab import --from torchvision --arch resnet50",
                                     "set model.backbone.pretrained: null"});
}

TEST(PretrainedImport, MissingXceptionFilePointsAtTimm) {
  models::ModelConfig config = small_config("xception65");
  config.arch = "deeplabv3plus";
  config.backbone.pretrained = "no/such/xception_65_imagenet.pth";
  expect_contains(error_of(config), {"'no/such/xception_65_imagenet.pth' does not exist", "timm's xception65.tf_in1k",
                                     "deeplab import --from timm --arch xception65"});
}

TEST(PretrainedImport, NoFileMeansFromScratch) {
  models::ModelConfig config = small_config("mobilenet_v2");
  models::DeepLab model = models::build_model(config);
  EXPECT_EQ(initialise_model(*model, config), "");
}

}  // namespace
}  // namespace deeplab::weights
