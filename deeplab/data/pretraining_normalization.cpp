#include "deeplab/data/pretraining_normalization.h"

#include "deeplab/data/normalization.h"

namespace deeplab::data {
namespace {

const MeanStd& imagenet() {
  static const MeanStd n{{kImageNetMean.begin(), kImageNetMean.end()}, {kImageNetStd.begin(), kImageNetStd.end()}};
  return n;
}

const MeanStd& inception() {
  static const MeanStd n{{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}};
  return n;
}

}  // namespace

MeanStd pretraining_normalization(const std::string& backbone) {
  return backbone.rfind("xception", 0) == 0 ? inception() : imagenet();
}

std::string normalization_name(const std::vector<double>& mean, const std::vector<double>& std) {
  if (mean == imagenet().mean && std == imagenet().std) return "imagenet";
  if (mean == inception().mean && std == inception().std) return "inception";
  return "custom";
}

}  // namespace deeplab::data
