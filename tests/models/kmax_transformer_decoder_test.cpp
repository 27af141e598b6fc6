// kMaX-DeepLab's transformer decoder and MaX prediction head: parameter
// counts against deeplab2's kMaX test constant, output shapes, unit-length
// pixel embeddings, the void prior, and the k-means assignment passing no
// gradient.

#include "deeplab/models/heads/kmax_transformer_decoder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "deeplab/models/heads/kmax_pixel_decoder.h"
#include "deeplab/models/heads/max_prediction_head.h"
#include "deeplab/models/summary.h"
#include "tests/models/gradient_check.h"

namespace deeplab::models {
namespace {

// deeplab2 model/kmax_deeplab_test.py: kMaX-DeepLab with ConvNeXt-B on COCO
// (128 slots, 134 classes with void), without the auxiliary semantic branch,
// has 121,513,304 trainable weights; its ConvNeXt-B encoder has 87,564,416
// (model/pixel_encoder/convnext_test.py).  The rest is the pixel decoder on
// ConvNeXt-B's levels, the transformer decoder with its six auxiliary heads,
// and the final head.
TEST(KMaXTransformerDecoder, WithThePixelDecoderAndHeadEqualsDeeplab2sModelLessItsEncoder) {
  const std::vector<FeatureSpec> convnext_base = {{"s32", 1024, 32}, {"s16", 512, 16}, {"s8", 256, 8}, {"s4", 128, 4}};
  KMaXPixelDecoder pixel_decoder(kmax_pixel_decoder_options(convnext_base, 4));
  KMaXTransformerDecoder transformer(
      KMaXTransformerDecoderOptions(
          {pixel_decoder->out_channels(0), pixel_decoder->out_channels(1), pixel_decoder->out_channels(2)}, 134)
          .num_slots(128));
  MaXHead head(MaXHeadOptions(pixel_decoder->out_channels(3), 134));
  EXPECT_EQ(count_parameters(*pixel_decoder) + count_parameters(*transformer) + count_parameters(*head),
            121513304 - 87564416);
}

// Cityscapes: 256 slots, 19 classes + void, the head on the stride-2 stage (128 channels).
TEST(KMaXTransformerDecoder, CityscapesCountsFollowTheSameLayout) {
  KMaXTransformerDecoder transformer(KMaXTransformerDecoderOptions({2048, 1024, 512}, 20).num_slots(256));
  MaXHead head(MaXHeadOptions(128, 20));
  EXPECT_EQ(count_parameters(*head), 108054);
  // 6 layers (2 x 1,975,312 + 2 x 1,713,168 + 2 x 1,582,096), 6 auxiliary
  // heads of 144,278, 256 x 256 centers and two 256-wide projections.
  EXPECT_EQ(count_parameters(*transformer), 10738784 + 6 * 144278);
}

std::vector<torch::Tensor> pixel_levels(int64_t batch) {
  return {torch::randn({batch, 64, 2, 3}), torch::randn({batch, 32, 4, 5}), torch::randn({batch, 16, 7, 9})};
}

TEST(KMaXTransformerDecoder, EveryLayerPredictsAtItsLevelsResolution) {
  torch::manual_seed(0);
  KMaXTransformerDecoder decoder(KMaXTransformerDecoderOptions({64, 32, 16}, 5).num_slots(12));
  decoder->train();
  const auto levels = pixel_levels(2);
  const KMaXDecoderOutputs out = decoder->forward(levels);
  EXPECT_EQ(out.class_features.sizes(), (std::vector<int64_t>{2, 12, 256}));
  EXPECT_EQ(out.mask_features.sizes(), (std::vector<int64_t>{2, 12, 256}));
  ASSERT_EQ(out.layer_outputs.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    const torch::Tensor& level = levels[i / 2];
    const MaXHeadOutputs& aux = out.layer_outputs[i];
    EXPECT_EQ(aux.mask_logits.sizes(), (std::vector<int64_t>{2, 12, level.size(2), level.size(3)})) << i;
    EXPECT_EQ(aux.class_logits.sizes(), (std::vector<int64_t>{2, 12, 5})) << i;
    EXPECT_EQ(aux.pixel_embedding.size(1), 128) << i;
    const torch::Tensor lengths = aux.pixel_embedding.pow(2).sum(1).sqrt();
    EXPECT_TRUE(torch::allclose(lengths, torch::ones_like(lengths), 1e-5, 1e-5)) << i;
  }
}

TEST(KMaXTransformerDecoder, TheKMeansAssignmentPassesNoGradient) {
  torch::manual_seed(1);
  KMaXTransformerDecoder decoder(KMaXTransformerDecoderOptions({64, 32, 16}, 5).num_slots(12).drop_path_keep(1.0));
  decoder->train();
  const KMaXDecoderOutputs out = decoder->forward(pixel_levels(2));
  out.class_features.sum().backward();
  // The last layer's auxiliary head decides the assignment only: nothing of
  // the final features flows back into it ...
  for (const auto& item : decoder->named_parameters()) {
    if (item.key().rfind("layer5.aux_head.", 0) == 0) {
      EXPECT_TRUE(!item.value().grad().defined() || item.value().grad().abs().sum().item<double>() == 0) << item.key();
    }
  }
  // ... while the values the assignment sums do get their gradient.
  const torch::Tensor centers_grad = decoder->named_parameters()["cluster_centers"].grad();
  ASSERT_TRUE(centers_grad.defined());
  EXPECT_GT(centers_grad.abs().sum().item<double>(), 0);
}

TEST(MaXHead, ClassLogitsCarryTheVoidPriorOnEveryPass) {
  MaXHead head(MaXHeadOptions(16, 20));
  head->eval();
  for (auto& item : head->named_parameters()) {
    if (item.key().rfind("class_head.", 0) == 0) {
      torch::NoGradGuard no_grad;
      item.value().zero_();
    }
  }
  const MaXHeadOutputs out =
      head->forward(torch::randn({1, 16, 4, 4}), torch::randn({1, 3, 256}), torch::randn({1, 3, 256}));
  const torch::Tensor probabilities = torch::softmax(out.class_logits, -1);
  // log(19 x 0.9 / 0.1): void takes 0.9 of the probability when the rest is flat.
  EXPECT_NEAR(out.class_logits[0][0][19].item<double>(), std::log(171.0), 1e-5);
  EXPECT_NEAR(probabilities[0][0][19].item<double>(), 0.9, 1e-6);
  EXPECT_EQ(out.mask_logits.sizes(), (std::vector<int64_t>{1, 3, 4, 4}));
}

// Training mode, float64: the gradients of the head (sequence norms, the
// one-channel mask-logit norm) and of a kMaX layer (k-means and attention
// norms) w.r.t. the slots equal central differences.  Before the sequences
// were made contiguous for batch norm, LibTorch 1.13 gave gradients wrong by
// their own size, and 1e36 at the backbone of a kMaX model.
TEST(KMaXGradients, HeadAndLayerEqualFiniteDifferences) {
  torch::manual_seed(7);
  MaXHead head(MaXHeadOptions(16, 5).slot_channels(256));
  head->to(torch::kDouble);
  head->train();
  const torch::Tensor pixels = torch::randn({2, 16, 3, 4}, torch::kDouble);
  const torch::Tensor features = torch::randn({2, 6, 256}, torch::kDouble);
  EXPECT_LT(testing::finite_difference_error(
                [&](const torch::Tensor& mask) { return head->forward(pixels, features, mask).mask_logits; }, features),
            1e-6);
  KMaXLayer layer(KMaXLayerOptions(16, 5).drop_path_keep(1.0));
  layer->to(torch::kDouble);
  layer->train();
  // Non-zero gammas where deeplab2 starts them at 0, so every path counts.
  for (auto& p : layer->named_parameters()) {
    if (p.key().find("norm.weight") != std::string::npos) p.value().data().uniform_(0.5, 1.5);
  }
  MaXHeadOutputs aux;
  EXPECT_LT(testing::finite_difference_error(
                [&](const torch::Tensor& centers) { return layer->forward(pixels, centers, aux); }, features),
            1e-6);
}

}  // namespace
}  // namespace deeplab::models
