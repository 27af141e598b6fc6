#pragma once
// What the reader and the writer of `torch.save` files share: the Python
// storage classes that name an element type in the pickle.

#include <c10/core/ScalarType.h>

#include <map>
#include <string>

namespace deeplab::weights {

/// "torch.FloatStorage" -> kFloat, and the other storage classes torch.save writes.
const std::map<std::string, c10::ScalarType>& storage_types();

/// kFloat -> "torch.FloatStorage"; IoError for a type torch.save has no storage class for.
std::string storage_class(c10::ScalarType type);

}  // namespace deeplab::weights
