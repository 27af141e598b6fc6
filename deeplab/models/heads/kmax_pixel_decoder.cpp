#include "deeplab/models/heads/kmax_pixel_decoder.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/layers/axial_block.h"

namespace deeplab::models {

namespace {
constexpr double kEncoderNormEps = 1e-6;
const char* const kActivation = "gelu";

// Layer norm over the channels of an NCHW tensor.
torch::Tensor norm_channels(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  return norm->forward(x.permute({0, 2, 3, 1})).permute({0, 3, 1, 2});
}
}  // namespace

KMaXPixelDecoderOptions kmax_pixel_decoder_options(std::vector<FeatureSpec> encoder_levels,
                                                   int64_t high_resolution_stride) {
  KMaXPixelDecoderOptions o;
  if (high_resolution_stride == 2) {
    o.dims({512, 256, 128, 64, 32}).blocks({1, 5, 1, 1, 1}).axial({true, true, false, false, false});
  } else if (high_resolution_stride != 4) {
    throw ConfigError("kMaX pixel decoder: the high-resolution output stride is 4 or 2, not " +
                      std::to_string(high_resolution_stride));
  }
  return o.encoder_levels(std::move(encoder_levels));
}

KMaXPixelDecoderImpl::KMaXPixelDecoderImpl(const KMaXPixelDecoderOptions& o) : options_(o) {
  const size_t stages = o.dims().size();
  if (o.blocks().size() != stages || o.axial().size() != stages || o.encoder_levels().size() != stages) {
    throw Error("kMaX pixel decoder: dims, blocks, axial and encoder levels differ in length");
  }
  int64_t in = o.encoder_levels()[0].channels;
  for (size_t i = 0; i < stages; ++i) {
    const FeatureSpec& level = o.encoder_levels()[i];
    encoder_norms_.push_back(
        register_module("encoder_norm" + std::to_string(i),
                        torch::nn::LayerNorm(torch::nn::LayerNormOptions({level.channels}).eps(kEncoderNormEps))));
    torch::nn::Sequential units;
    for (int64_t b = 0; b < o.blocks()[i]; ++b) {
      units->push_back(AxialBlock(AxialBlockOptions(in, o.dims()[i])
                                      .axial(o.axial()[i])
                                      .dilation(o.axial()[i] ? 1 : o.bottleneck_dilation())
                                      .activation(kActivation)));
      in = 4 * o.dims()[i];
    }
    stages_.push_back(register_module("stage" + std::to_string(i), units));
    if (i + 1 == stages) break;
    // The fuse into the next stage: dims[i + 1] channels at the next level's size.
    const int64_t width = o.dims()[i + 1];
    const auto projection = [&](const std::string& name, int64_t channels) {
      return channels == width
                 ? Chain(nullptr)
                 : register_module(name, conv_bn_act(ConvBnActOptions(channels, width, 1).activation("")));
    };
    fuse_decoder_.push_back(projection("fuse" + std::to_string(i) + "_decoder", in));
    fuse_encoder_.push_back(projection("fuse" + std::to_string(i) + "_encoder", o.encoder_levels()[i + 1].channels));
    in = width;
  }
}

torch::Tensor KMaXPixelDecoderImpl::fuse(size_t stage, const torch::Tensor& decoder, const torch::Tensor& encoder) {
  const std::vector<int64_t> size = {encoder.size(2), encoder.size(3)};
  const auto side = [&](Chain& projection, const torch::Tensor& x) {
    torch::Tensor y = projection.is_empty() ? x : projection->forward(apply_activation(kActivation, x));
    if (y.size(2) == size[0] && y.size(3) == size[1]) return y;
    return torch::upsample_bilinear2d(y, size, /*align_corners=*/true);
  };
  return side(fuse_decoder_[stage], decoder) + side(fuse_encoder_[stage], encoder);
}

std::vector<torch::Tensor> KMaXPixelDecoderImpl::forward(const Features& encoder_features) {
  const auto& levels = options_.encoder_levels();
  const auto encoder = [&](size_t i) {
    const auto found = encoder_features.find(levels[i].name);
    if (found == encoder_features.end()) throw Error("kMaX pixel decoder: no encoder feature '" + levels[i].name + "'");
    return norm_channels(encoder_norms_[i], found->second);
  };
  std::vector<torch::Tensor> outputs;
  torch::Tensor x = encoder(0);
  for (size_t i = 0; i < stages_.size(); ++i) {
    x = stages_[i]->forward(x);
    outputs.push_back(x);
    if (i + 1 < stages_.size()) x = fuse(i, x, encoder(i + 1));
  }
  return outputs;
}

}  // namespace deeplab::models
