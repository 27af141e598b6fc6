// deeplab2's stacked decoder: ResizedFuse's three kinds of input, the decoder
// state carried from the backbone's part to the head's through the feature
// map, and the schedule of MaX-DeepLab-L (16 -> 4 -> 16 in the backbone,
// again after it) seen in what each part leaves at each stride.

#include "deeplab/models/backbones/stacked_decoder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/models/summary.h"

namespace deeplab::models {
namespace {

// Inputs: one of the target width (resized only), one at half the stride
// (strided 1x1 conv-BN of its activation), one at a quarter (1x1 conv-BN of
// its activation, resized with aligned corners).
TEST(ResizedFuse, ResizesProjectsOrStridesEachInputAsDeeplab2) {
  torch::manual_seed(0);
  const std::vector<std::pair<int64_t, int64_t>> inputs = {{8, 8}, {4, 4}, {6, 2}};  // (channels, stride)
  ResizedFuse fuse(inputs, 8, 8);
  fuse->eval();
  EXPECT_EQ(count_parameters(*fuse), (4 * 8 + 2 * 8) + (6 * 8 + 2 * 8));
  const torch::Tensor same = torch::randn({1, 8, 5, 7}), half = torch::randn({1, 4, 9, 13}),
                      quarter = torch::randn({1, 6, 3, 4});
  const torch::Tensor out = fuse->forward({same, half, quarter}, 5, 7);
  auto params = fuse->named_parameters();
  auto buffers = fuse->named_buffers();
  const auto conv_bn = [&](const std::string& name, const torch::Tensor& x, int64_t stride) {
    const torch::Tensor y = torch::conv2d(torch::relu(x), params[name + ".0.weight"], {}, stride);
    return torch::batch_norm(y, params[name + ".1.weight"], params[name + ".1.bias"], buffers[name + ".1.running_mean"],
                             buffers[name + ".1.running_var"], false, 0.1, 1e-5, false);
  };
  const torch::Tensor expected =
      same + conv_bn("strided1", half, 2) + torch::upsample_bilinear2d(conv_bn("resized2", quarter, 1), {5, 7}, true);
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6));
}

TEST(DecoderState, TravelsThroughTheFeatureMapInOrder) {
  DecoderState state;
  state.current = torch::full({1}, -1.0);
  state.memory = torch::full({1}, -2.0);
  for (int k = 0; k < 12; ++k) state.history[8].push_back(torch::full({1}, static_cast<double>(k)));
  state.history[4] = {torch::full({1}, 40.0)};
  Features features;
  export_decoder_state(state, features);
  const DecoderState back = import_decoder_state(features);
  ASSERT_EQ(back.history.at(8).size(), 12u);
  for (int k = 0; k < 12; ++k) EXPECT_EQ(back.history.at(8)[k].item<double>(), k) << "k " << k;
  EXPECT_EQ(back.history.at(4)[0].item<double>(), 40.0);
  EXPECT_EQ(back.current.item<double>(), -1.0);
  EXPECT_EQ(back.memory.item<double>(), -2.0);
  EXPECT_THROW(import_decoder_state(Features{}), std::exception);
}

// MaX-DeepLab-L's schedule at a sixteenth of its width, stride 16: the
// backbone's part visits 8, 4, 8 and ends at 16 (its output there is the
// backbone output; the head's part finishes that stage); the head's part
// visits 8, 4, 8, 16, 8, 4.
TEST(StackedDecoder, MaXDeepLabLargeVisitsEachStrideInDeeplab2sOrder) {
  torch::manual_seed(1);
  AxialResNet encoder(axial_resnet_instance("max_deeplab_l_backbone")
                          .width_multiplier(0.0625)
                          .stem_width_multiplier(0.25)
                          .layer_multiplier(0.34)
                          .output_stride(16));
  encoder->eval();
  torch::NoGradGuard no_grad;
  const Features features = encoder->forward(torch::randn({1, 3, 65, 65}));
  ASSERT_TRUE(features.count("backbone_output"));
  EXPECT_EQ(features.at("backbone_output").sizes(), (std::vector<int64_t>{1, 128, 5, 5}));  // 32 x 64 / 16
  DecoderState state = import_decoder_state(features);
  EXPECT_EQ(state.history.at(8).size(), 3u) << "res3, then the stages at 8 going down and up";
  EXPECT_EQ(state.history.at(4).size(), 2u);
  EXPECT_EQ(state.history.at(16).size(), 1u) << "the last stage is finished by the head's part";
  StackedDecoder extra(StackedDecoderOptions()
                           .encoder(encoder->options())
                           .backbone_stacks(1)
                           .extra_stacks(1)
                           .extra_blocks(1)
                           .extra_transformer_beyond_stride(0)
                           .part("extra")
                           .encoder_channels(encoder->decoder_channels()));
  extra->eval();
  extra->forward(state);
  EXPECT_EQ(state.history.at(16).size(), 3u);
  EXPECT_EQ(state.history.at(8).size(), 6u);
  EXPECT_EQ(state.history.at(4).size(), 4u);
  ASSERT_EQ(state.high_resolution.size(), 2u);
  EXPECT_EQ(state.current.sizes(), (std::vector<int64_t>{1, 16, 17, 17}));  // 4 x 64 / 16 at stride 4
  EXPECT_EQ(extra->out_channels(), 16);
}

}  // namespace
}  // namespace deeplab::models
