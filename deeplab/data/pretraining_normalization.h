#pragma once
// Which input normalisation a backbone's pretrained weights expect, so that
// a config that does not set data.mean / data.std gets the right one:
// torchvision's ResNets, MobileNets and VGG were trained on ImageNet's
// statistics; the public aligned-Xception weights were trained in TF with
// inputs scaled to [-1, 1] (mean = std = 0.5: TF DeepLab's checkpoints and
// their timm port, the `tf_in1k` tags).

#include <string>
#include <vector>

namespace deeplab::data {

struct MeanStd {
  std::vector<double> mean, std;
};

/// The normalisation `backbone` (model.backbone.name) was pretrained with.
MeanStd pretraining_normalization(const std::string& backbone);

/// "imagenet", "inception" ([-1, 1]) or "custom": what a mean/std pair is,
/// for export metadata and logs.
std::string normalization_name(const std::vector<double>& mean, const std::vector<double>& std);

}  // namespace deeplab::data
