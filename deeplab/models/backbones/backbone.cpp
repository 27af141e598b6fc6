#include "deeplab/models/backbones/backbone.h"

#include "deeplab/core/error.h"

namespace deeplab::models {

FeatureSpec BackboneImpl::spec(const std::string& name) const {
  for (const auto& s : feature_specs()) {
    if (s.name == name) return s;
  }
  throw Error("backbone " + this->name() + " has no feature '" + name + "'");
}

StrideTracker::Step StrideTracker::next(int64_t stride) {
  const int64_t previous = dilation_;
  if (stride_ * stride > output_stride_) {
    dilation_ *= stride;
    return {1, dilation_, previous};
  }
  stride_ *= stride;
  return {stride, dilation_, previous};
}

}  // namespace deeplab::models
