#pragma once
// Typed fields of outside JSON files (COCO panoptic annotations, meta.json)
// with errors that name the file, the object and the key: nlohmann's own
// "type must be number, but is string" names none of them.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "deeplab/core/error.h"

namespace deeplab::core {

/// `object[key]`; IoError "<where>: missing key 'key'" when absent.
inline const nlohmann::json& json_member(const nlohmann::json& object, const char* key, const std::string& where) {
  if (!object.is_object() || !object.contains(key)) throw IoError(where + ": missing key '" + key + "'");
  return object.at(key);
}

namespace json_detail {
[[noreturn]] inline void wrong_type(const nlohmann::json& value, const char* key, const std::string& where,
                                    const std::string& expected) {
  std::string shown = value.dump();
  if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
  throw IoError(where + ": '" + key + "' must be " + expected + ", but is the " + value.type_name() + " " + shown);
}
}  // namespace json_detail

/// `object[key]` as T (an integer in T's range, a number, a string);
/// IoError naming `where`, the key, what T is and what the file holds
/// instead.  A float or an out-of-range integer is never cast to an integer.
template <class T>
T json_field(const nlohmann::json& object, const char* key, const std::string& where) {
  const nlohmann::json& value = json_member(object, key, where);
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using Limits = std::numeric_limits<T>;
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      if (v <= static_cast<uint64_t>(Limits::max())) return static_cast<T>(v);
    } else if (value.is_number_integer()) {
      const auto v = value.get<int64_t>();
      if (v >= static_cast<int64_t>(Limits::min()) &&
          (v < 0 || static_cast<uint64_t>(v) <= static_cast<uint64_t>(Limits::max()))) {
        return static_cast<T>(v);
      }
    }
    json_detail::wrong_type(
        value, key, where, "an integer from " + std::to_string(Limits::min()) + " to " + std::to_string(Limits::max()));
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) json_detail::wrong_type(value, key, where, "a number");
    return value.get<T>();
  } else {
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception&) {
      json_detail::wrong_type(value, key, where, std::is_same_v<T, bool> ? "true or false" : "a string");
    }
  }
}

/// `object[key]`, which must be a JSON array; IoError naming `where` otherwise.
inline const nlohmann::json& json_array(const nlohmann::json& object, const char* key, const std::string& where) {
  const nlohmann::json& value = json_member(object, key, where);
  if (!value.is_array()) json_detail::wrong_type(value, key, where, "a list");
  return value;
}

/// `object[key]` as T when present, else `fallback`; errors as json_field.
template <class T>
T json_field_or(const nlohmann::json& object, const char* key, T fallback, const std::string& where) {
  return object.is_object() && object.contains(key) ? json_field<T>(object, key, where) : fallback;
}

}  // namespace deeplab::core
