#pragma once
// The interface every backbone implements: named features out, and what each
// feature is (channels, stride) so heads are built from specs, never from
// hard-coded channel counts.

#include <torch/nn/module.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace deeplab::models {

/// One named output of a backbone.
struct FeatureSpec {
  std::string name;
  int64_t channels = 0;
  int64_t stride = 0;  // input pixels per feature pixel
};

using Features = std::map<std::string, torch::Tensor>;

/// Feature extractor with a configurable output stride.
class BackboneImpl : public torch::nn::Module {
 public:
  /// Every feature forward() returns, in order of increasing stride.
  virtual std::vector<FeatureSpec> feature_specs() const = 0;
  virtual Features forward(const torch::Tensor& x) = 0;

  /// The high-stride feature the main head reads.
  virtual std::string out_name() const { return "out"; }
  /// The stride-4 feature a decoder reads.
  virtual std::string low_level_name() const { return "low_level"; }
  /// The stride-8 feature (Panoptic-DeepLab's decoder reads it and the stride-4 one).
  virtual std::string mid_level_name() const { return "mid_level"; }
  /// The feature an auxiliary FCN head reads.
  virtual std::string aux_name() const { return "aux"; }
  /// Width of the fully connected layers (fc6/fc7) that DeepLab v1/v2 put on
  /// this backbone as convolutions, initialised from its ImageNet classifier;
  /// 0 when the backbone has none (heads then start from its last feature).
  virtual int64_t fc_channels() const { return 0; }

  /// Spec of the named feature; throws naming it when absent.
  FeatureSpec spec(const std::string& name) const;
};

/// The output stride as dilation bookkeeping: a stage that would push the
/// running stride past `output_stride` keeps stride 1 and dilates instead.
class StrideTracker {
 public:
  explicit StrideTracker(int64_t output_stride) : output_stride_(output_stride) {}
  struct Step {
    int64_t stride;             // what the stage's strided conv should use
    int64_t dilation;           // dilation from this stage on
    int64_t previous_dilation;  // dilation before it (TF and torchvision ResNet
                                // give it to the first unit of a dilated stage)
  };
  /// For a stage asking for `stride`: what it should use instead.
  Step next(int64_t stride);
  int64_t stride() const { return stride_; }
  int64_t dilation() const { return dilation_; }

 private:
  int64_t output_stride_;
  int64_t stride_ = 1;
  int64_t dilation_ = 1;
};

}  // namespace deeplab::models
