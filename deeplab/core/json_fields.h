#pragma once
// Typed fields of outside JSON files (COCO panoptic annotations, meta.json)
// with errors that name the file, the object and the key: nlohmann's own
// "type must be number, but is string" names none of them.

#include <nlohmann/json.hpp>

#include <string>
#include <type_traits>

#include "deeplab/core/error.h"

namespace deeplab::core {

/// `object[key]`; IoError "<where>: missing key 'key'" when absent.
inline const nlohmann::json& json_member(const nlohmann::json& object, const char* key, const std::string& where) {
  if (!object.is_object() || !object.contains(key)) throw IoError(where + ": missing key '" + key + "'");
  return object.at(key);
}

/// `object[key]` as T (a number, a string); IoError naming `where`, the key,
/// what T is and what the file holds instead.
template <class T>
T json_field(const nlohmann::json& object, const char* key, const std::string& where) {
  const nlohmann::json& value = json_member(object, key, where);
  try {
    return value.get<T>();
  } catch (const nlohmann::json::exception&) {
    const char* expected = std::is_arithmetic_v<T> ? "a number" : "a string";
    std::string shown = value.dump();
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    throw IoError(where + ": '" + key + "' must be " + expected + ", but is the " + value.type_name() + " " + shown);
  }
}

/// `object[key]` as T when present, else `fallback`; errors as json_field.
template <class T>
T json_field_or(const nlohmann::json& object, const char* key, T fallback, const std::string& where) {
  return object.is_object() && object.contains(key) ? json_field<T>(object, key, where) : fallback;
}

}  // namespace deeplab::core
