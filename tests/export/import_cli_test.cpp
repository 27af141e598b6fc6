#include <gtest/gtest.h>

#include "tests/support/test_support.h"
#include "tests/weights/export_fixtures.h"

namespace deeplab::exporting {
namespace {

TEST(ImportCli, InspectListsKeysDtypesAndShapes) {
  DEEPLAB_REQUIRE_FIXTURES();
  const std::string path = testing::export_fixture_dir() + "/resnet18.pth";
  const auto result = testing::run_deeplab("import --inspect " + path);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("conv1.weight"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("float32   [64, 3, 7, 7]"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("bn1.num_batches_tracked"), std::string::npos);
  EXPECT_NE(result.output.find("int64     []"), std::string::npos);
  EXPECT_NE(result.output.find(": 122 tensors, 11699132 elements"), std::string::npos) << result.output;
}

TEST(ImportCli, BadFileIsOneLineErrorNamingIt) {
  testing::TempDir dir;
  const std::string path = dir.write("weights.pth", "garbage");
  const auto result = testing::run_deeplab("import --inspect " + path);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("error: " + path + ": not a torch.save file"), std::string::npos) << result.output;
}

// An unknown --arch is named as the flag with what it accepts (it used to be
// reported as the config key model.backbone.name it would have become).
TEST(ImportCli, AnUnknownArchNamesTheFlagAndTheChoices) {
  testing::TempDir dir;
  const std::string path = dir.write("weights.pth", "garbage");
  const auto result =
      testing::run_deeplab("import --from torchvision --arch bogus " + path + " " + dir.file("out.pth"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("import --arch 'bogus': not a torchvision model or backbone; expected "
                               "deeplabv3_<backbone> or a backbone: "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("resnet50"), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("model.backbone.name"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace deeplab::exporting
