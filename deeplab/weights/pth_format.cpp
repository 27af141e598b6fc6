#include "deeplab/weights/pth_format.h"

#include "deeplab/core/error.h"

namespace deeplab::weights {

const std::map<std::string, c10::ScalarType>& storage_types() {
  static const std::map<std::string, c10::ScalarType> types = {
      {"torch.FloatStorage", c10::kFloat},
      {"torch.DoubleStorage", c10::kDouble},
      {"torch.HalfStorage", c10::kHalf},
      {"torch.BFloat16Storage", c10::kBFloat16},
      {"torch.LongStorage", c10::kLong},
      {"torch.IntStorage", c10::kInt},
      {"torch.ShortStorage", c10::kShort},
      {"torch.CharStorage", c10::kChar},
      {"torch.ByteStorage", c10::kByte},
      {"torch.BoolStorage", c10::kBool},
      {"torch.ComplexFloatStorage", c10::kComplexFloat},
      {"torch.ComplexDoubleStorage", c10::kComplexDouble},
  };
  return types;
}

std::string storage_class(c10::ScalarType type) {
  for (const auto& [name, element] : storage_types()) {
    if (element == type) return name;
  }
  throw IoError(std::string("torch.save has no storage class for tensors of ") + c10::toString(type));
}

}  // namespace deeplab::weights
