#pragma once
// A factory table: (name, builder) pairs, the one list of the choices a
// config key accepts.  Validation reads table_names(), construction
// table_find(), so the two cannot drift.

#include <string>
#include <utility>
#include <vector>

namespace deeplab::core {

template <class T>
using NamedTable = std::vector<std::pair<std::string, T>>;

/// The names in table order (for `one_of` checks and error messages).
template <class T>
std::vector<std::string> table_names(const NamedTable<T>& table) {
  std::vector<std::string> names;
  for (const auto& entry : table) names.push_back(entry.first);
  return names;
}

/// The entry called `name`, or nullptr.
template <class T>
const T* table_find(const NamedTable<T>& table, const std::string& name) {
  for (const auto& entry : table) {
    if (entry.first == name) return &entry.second;
  }
  return nullptr;
}

}  // namespace deeplab::core
