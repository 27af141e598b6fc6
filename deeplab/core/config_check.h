#pragma once
// Value constraints for typed config fields: numeric ranges, allowed choices,
// list lengths and free-form predicates.  Each says what it expects, so the
// error message can too.

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace deeplab::core {

/// A constraint on one config value (applied to each element of a list).
struct Check {
  std::optional<double> min, max;
  bool min_exclusive = false, max_exclusive = false;
  std::vector<std::string> choices;                   // for strings and integers
  std::optional<size_t> length;                       // for lists
  std::optional<size_t> min_length;                   // for lists
  std::function<bool(const std::string&)> predicate;  // for strings
  std::string predicate_expects;                      // "cpu, cuda, cuda:N or auto"

  /// Human-readable rule, e.g. "> 0", "in [0, 1]", "one of: a, b".
  std::string describe() const;
  /// Empty when `value` passes; else what was expected.
  std::optional<std::string> violation(double value) const;
  std::optional<std::string> violation(const std::string& value) const;
};

namespace check {
inline Check any() { return {}; }
inline Check positive() {
  Check c;
  c.min = 0;
  c.min_exclusive = true;
  return c;
}
inline Check non_negative() {
  Check c;
  c.min = 0;
  return c;
}
inline Check at_least(double v) {
  Check c;
  c.min = v;
  return c;
}
inline Check in_range(double lo, double hi) {
  Check c;
  c.min = lo;
  c.max = hi;
  return c;
}
/// [lo, hi): e.g. probabilities that must stay below 1.
inline Check in_half_open(double lo, double hi) {
  Check c;
  c.min = lo;
  c.max = hi;
  c.max_exclusive = true;
  return c;
}
inline Check one_of(std::vector<std::string> options) {
  Check c;
  c.choices = std::move(options);
  return c;
}
inline Check with_length(Check c, size_t n) {
  c.length = n;
  return c;
}
inline Check non_empty(Check c) {
  c.min_length = 1;
  return c;
}
inline Check satisfying(std::function<bool(const std::string&)> f, std::string expects) {
  Check c;
  c.predicate = std::move(f);
  c.predicate_expects = std::move(expects);
  return c;
}
}  // namespace check

/// Levenshtein distance; used to suggest the closest valid key or choice.
size_t edit_distance(const std::string& a, const std::string& b);
/// The candidate closest to `word`, or "" when none is plausibly meant.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace deeplab::core
