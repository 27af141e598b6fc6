// kMaX-DeepLab's pixel decoder: the stages, widths and fuses deeplab2's
// builder sets for output stride 4 (COCO, ADE20K) and 2 (Cityscapes), its
// outputs' shapes, and errors that name what is missing.

#include "deeplab/models/heads/kmax_pixel_decoder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

// ResNet-50's features at strides 32, 16, 8, 4 (and its stride-2 stem).
std::vector<FeatureSpec> resnet50_levels(bool with_stem) {
  std::vector<FeatureSpec> levels = {{"res5", 2048, 32}, {"res4", 1024, 16}, {"res3", 512, 8}, {"res2", 256, 4}};
  if (with_stem) levels.push_back({"stem", 64, 2});
  return levels;
}

// The counts follow deeplab2's kmax.py, axial_block_groups.py and
// resized_fuse.py unit by unit (1x1 convs without bias, BN gamma and beta,
// three 509-row relative-position tables per axis...): on ResNet-50,
// 21,151,040 at output stride 4 and 29,568 more for the stride-2 stage.
// deeplab2's own test pins only the whole ConvNeXt-B model (121,513,304).
TEST(KMaXPixelDecoder, ParameterCountsFollowDeeplab2sLayout) {
  KMaXPixelDecoder coco(kmax_pixel_decoder_options(resnet50_levels(false), 4));
  KMaXPixelDecoder cityscapes(kmax_pixel_decoder_options(resnet50_levels(true), 2));
  EXPECT_EQ(count_parameters(*coco), 21151040);
  EXPECT_EQ(count_parameters(*cityscapes), 21180608);
}

Features fake_encoder(int64_t batch, int64_t height, int64_t width, bool with_stem) {
  Features features;
  for (const FeatureSpec& level : resnet50_levels(with_stem)) {
    features[level.name] = torch::randn(
        {batch, level.channels, (height + level.stride - 1) / level.stride, (width + level.stride - 1) / level.stride});
  }
  return features;
}

TEST(KMaXPixelDecoder, EveryStageEndsAtItsLevelsSizeAndWidth) {
  torch::manual_seed(0);
  KMaXPixelDecoder decoder(kmax_pixel_decoder_options(resnet50_levels(true), 2));
  decoder->train();
  // An odd-sized input, as deeplab2's 1025x2049 crops: every level rounds up.
  const Features features = fake_encoder(2, 65, 97, true);
  const std::vector<torch::Tensor> outputs = decoder->forward(features);
  ASSERT_EQ(outputs.size(), 5u);
  const std::vector<std::string> levels = {"res5", "res4", "res3", "res2", "stem"};
  for (size_t i = 0; i < outputs.size(); ++i) {
    const torch::Tensor& level = features.at(levels[i]);
    EXPECT_EQ(outputs[i].sizes(), (std::vector<int64_t>{2, decoder->out_channels(i), level.size(2), level.size(3)}))
        << levels[i];
  }
  EXPECT_EQ(decoder->out_channels(4), 128);  // 4 x 32 at stride 2
  outputs.back().sum().backward();
  // The output reaches back to the first and the last encoder level.
  for (const char* norm : {"encoder_norm0.weight", "encoder_norm4.weight"}) {
    const torch::Tensor grad = decoder->named_parameters()[norm].grad();
    ASSERT_TRUE(grad.defined()) << norm;
    EXPECT_GT(grad.abs().sum().item<double>(), 0) << norm;
  }
}

TEST(KMaXPixelDecoder, NamesAMissingEncoderFeatureAndABadStride) {
  KMaXPixelDecoder decoder(kmax_pixel_decoder_options(resnet50_levels(false), 4));
  decoder->eval();
  Features features = fake_encoder(1, 32, 32, false);
  features.erase("res3");
  try {
    decoder->forward(features);
    ADD_FAILURE() << "a missing feature was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("'res3'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(kmax_pixel_decoder_options(resnet50_levels(false), 8), ConfigError);
}

}  // namespace
}  // namespace deeplab::models
