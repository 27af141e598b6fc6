#include "deeplab/core/config_io.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

bool is_integer_text(const std::string& s) {
  if (s.empty()) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

std::string known_list(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace

ConfigReader::ConfigReader(const YAML::Node& node, std::string path, const ConfigTree& tree)
    : node_(node), path_(std::move(path)), tree_(tree) {
  if (!node_.IsMap()) {
    fail(path_, "expected a section (a mapping of keys), got " + describe_node(node_));
  }
}

void ConfigReader::fail(const std::string& path, const std::string& message) const {
  // List elements ("a.b[2]") take the origin of their list.
  const std::string key_path = path.substr(0, path.find('['));
  throw ConfigError(tree_.origin_of(key_path) + ": " + path + ": " + message);
}

std::string ConfigReader::describe_node(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  return "nothing";
}

void ConfigReader::reject_unknown_keys() const {
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    const std::string suggestion = closest_match(key, known_);
    std::string message = "unknown key '" + full(key) + "'";
    if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
    message += "; valid keys" + (path_.empty() ? std::string(" at the top level") : " in '" + path_ + "'") + ": " +
               known_list(known_);
    throw ConfigError(tree_.origin_of(full(key)) + ": " + message);
  }
}

void ConfigReader::read_value(const YAML::Node& n, const std::string& path, bool& v, const Check&) const {
  if (!n.IsScalar()) fail(path, "expected true or false, got " + describe_node(n));
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "yes" || s == "on") {
    v = true;
  } else if (s == "false" || s == "False" || s == "no" || s == "off") {
    v = false;
  } else {
    fail(path, "expected true or false, got '" + s + "'");
  }
}

void ConfigReader::read_value(const YAML::Node& n, const std::string& path, int64_t& v, const Check& c) const {
  if (!n.IsScalar() || !is_integer_text(n.Scalar())) {
    fail(path, "expected an integer, got " + describe_node(n));
  }
  errno = 0;
  const long long parsed = std::strtoll(n.Scalar().c_str(), nullptr, 10);
  if (errno == ERANGE) fail(path, "integer '" + n.Scalar() + "' is out of range");
  if (auto expected = c.violation(static_cast<double>(parsed))) {
    fail(path, "value " + n.Scalar() + " is not allowed; expected " + *expected);
  }
  v = parsed;
}

void ConfigReader::read_value(const YAML::Node& n, const std::string& path, int& v, const Check& c) const {
  int64_t wide = v;
  read_value(n, path, wide, c);
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    fail(path, "integer " + n.Scalar() + " does not fit in 32 bits");
  }
  v = static_cast<int>(wide);
}

void ConfigReader::read_value(const YAML::Node& n, const std::string& path, double& v, const Check& c) const {
  if (!n.IsScalar()) fail(path, "expected a number, got " + describe_node(n));
  const std::string& s = n.Scalar();
  char* end = nullptr;
  const double parsed = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(parsed)) {
    fail(path, "expected a number, got '" + s + "'");
  }
  if (auto expected = c.violation(parsed)) fail(path, "value " + s + " is out of range; expected " + *expected);
  v = parsed;
}

void ConfigReader::read_value(const YAML::Node& n, const std::string& path, std::string& v, const Check& c) const {
  if (!n.IsScalar()) fail(path, "expected a string, got " + describe_node(n));
  const std::string& s = n.Scalar();
  if (auto expected = c.violation(s)) {
    std::string message = "'" + s + "' is not allowed; expected " + *expected;
    const std::string suggestion = closest_match(s, c.choices);
    if (!suggestion.empty()) message += " (did you mean '" + suggestion + "'?)";
    fail(path, message);
  }
  v = s;
}

std::string format_double(double v) {
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  std::string text = buffer;
  // Keep it a float to a reader: "1" -> "1.0" (but not "1e-05").
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

YAML::Node ConfigWriter::encode(double v) { return YAML::Node(format_double(v)); }

}  // namespace deeplab::core
