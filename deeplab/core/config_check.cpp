#include "deeplab/core/config_check.h"

#include <algorithm>
#include <sstream>

namespace deeplab::core {
namespace {

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

std::string Check::describe() const {
  if (!choices.empty()) return "one of: " + joined(choices);
  if (predicate) return predicate_expects;
  if (min && max) {
    return std::string(min_exclusive ? "in (" : "in [") + number(*min) + ", " + number(*max) +
           (max_exclusive ? ")" : "]");
  }
  if (min) return (min_exclusive ? "> " : ">= ") + number(*min);
  if (max) return (max_exclusive ? "< " : "<= ") + number(*max);
  return "any value";
}

std::optional<std::string> Check::violation(double value) const {
  if (!choices.empty()) {
    return std::find(choices.begin(), choices.end(), number(value)) == choices.end()
               ? std::optional<std::string>(describe())
               : std::nullopt;
  }
  const bool below = min && (min_exclusive ? value <= *min : value < *min);
  const bool above = max && (max_exclusive ? value >= *max : value > *max);
  if (below || above || value != value) return describe();
  return std::nullopt;
}

std::optional<std::string> Check::violation(const std::string& value) const {
  if (!choices.empty() && std::find(choices.begin(), choices.end(), value) == choices.end()) return describe();
  if (predicate && !predicate(value)) return describe();
  return std::nullopt;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 2) + 1;  // beyond this it is a guess
  for (const auto& candidate : candidates) {
    const size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace deeplab::core
