// Typed JSON fields: integers must be integers within the target type's range
// (a float or an out-of-range value is an error, never a cast), and every
// error names where, the key, what was expected and what the file holds.

#include "deeplab/core/json_fields.h"

#include <gtest/gtest.h>

#include <functional>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

using nlohmann::json;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(JsonFields, IntegersInRangeAreRead) {
  const json j = json::parse(R"({"a": 7, "b": -3, "c": 4294967295})");
  EXPECT_EQ(json_field<int>(j, "a", "f"), 7);
  EXPECT_EQ(json_field<int>(j, "b", "f"), -3);
  EXPECT_EQ(json_field<uint32_t>(j, "c", "f"), 4294967295u);
  EXPECT_EQ(json_field_or<int>(j, "missing", 5, "f"), 5);
  EXPECT_DOUBLE_EQ(json_field<double>(j, "a", "f"), 7.0);
}

TEST(JsonFields, FloatsAndOutOfRangeValuesAreErrorsNotCasts) {
  const json j = json::parse(R"({"big": 1.4e127, "frac": 2.5, "neg": -1, "huge": 4294967296})");
  EXPECT_EQ(
      error_of([&] { json_field<int>(j, "big", "'x.json' categories[0]"); }),
      "'x.json' categories[0]: 'big' must be an integer from -2147483648 to 2147483647, but is the number 1.4e+127");
  EXPECT_NE(error_of([&] { json_field<int>(j, "frac", "w"); }).find("'frac' must be an integer"), std::string::npos);
  EXPECT_NE(error_of([&] { json_field<uint32_t>(j, "neg", "w"); }).find("from 0 to 4294967295, but is the number -1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { json_field<uint32_t>(j, "huge", "w"); }).find("but is the number 4294967296"),
            std::string::npos);
}

TEST(JsonFields, WrongTypesAndMissingKeysNameTheKey) {
  const json j = json::parse(R"({"name": 3, "id": "12", "list": {"a": 1}})");
  EXPECT_EQ(error_of([&] { json_field<std::string>(j, "name", "w"); }),
            "w: 'name' must be a string, but is the number 3");
  EXPECT_EQ(error_of([&] { json_field<double>(j, "id", "w"); }), "w: 'id' must be a number, but is the string \"12\"");
  EXPECT_EQ(error_of([&] { json_member(j, "absent", "w"); }), "w: missing key 'absent'");
  EXPECT_EQ(error_of([&] { json_array(j, "list", "w"); }), "w: 'list' must be a list, but is the object {\"a\":1}");
  EXPECT_EQ(error_of([&] { json_member(json::array(), "id", "w"); }), "w: missing key 'id'");
}

}  // namespace
}  // namespace deeplab::core
