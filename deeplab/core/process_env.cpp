#include "deeplab/core/process_env.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

const char* env_value(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

long long env_integer(const char* name, long long fallback) {
  const char* value = env_value(name);
  if (value == nullptr) return fallback;
  size_t used = 0;
  long long parsed = 0;
  try {
    parsed = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || value[used] != '\0') {
    throw ConfigError(std::string("environment variable ") + name + "='" + value + "' is not an integer");
  }
  return parsed;
}

int env_int(const char* name, int fallback) { return static_cast<int>(env_integer(name, fallback)); }

std::string env_string(const char* name, const std::string& fallback) {
  const char* value = env_value(name);
  return value ? value : fallback;
}

void check_place(const ProcessPlace& place, const std::string& source) {
  if (place.world_size < 1 || place.rank < 0 || place.rank >= place.world_size) {
    throw ConfigError(source + ": rank " + std::to_string(place.rank) + " of world size " +
                      std::to_string(place.world_size) + "; expected 0 <= rank < world size");
  }
}

// SLURM_NTASKS_PER_NODE looks like "4" or "2(x3),1": the first count is this
// layout's tasks per node for the homogeneous jobs data parallelism uses.
int leading_count(const std::string& text, int fallback) {
  size_t used = 0;
  while (used < text.size() && std::isdigit(static_cast<unsigned char>(text[used]))) ++used;
  return used == 0 ? fallback : std::stoi(text.substr(0, used));
}

Rendezvous torchrun_rendezvous() {
  Rendezvous r;
  r.source = "torchrun";
  r.rank = env_int("RANK", 0);
  r.world_size = env_int("WORLD_SIZE", 1);
  check_place({r.rank, r.world_size}, "RANK/WORLD_SIZE");
  r.local_rank = env_int("LOCAL_RANK", r.rank);
  r.local_world_size = env_int("LOCAL_WORLD_SIZE", r.world_size);
  check_place({r.local_rank, r.local_world_size}, "LOCAL_RANK/LOCAL_WORLD_SIZE");
  r.master_addr = env_string("MASTER_ADDR", r.master_addr);
  r.master_port = env_int("MASTER_PORT", r.master_port);
  const std::string agent = env_string("TORCHELASTIC_USE_AGENT_STORE", "");
  r.agent_store = agent == "True" || agent == "true" || agent == "1";
  r.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0);
  return r;
}

Rendezvous slurm_rendezvous() {
  Rendezvous r;
  r.source = "slurm";
  r.rank = env_int("SLURM_PROCID", 0);
  r.world_size = env_int("SLURM_NTASKS", 1);
  check_place({r.rank, r.world_size}, "SLURM_PROCID/SLURM_NTASKS");
  r.local_rank = env_int("SLURM_LOCALID", 0);
  r.local_world_size = leading_count(env_string("SLURM_NTASKS_PER_NODE", ""), r.world_size);
  check_place({r.local_rank, r.local_world_size}, "SLURM_LOCALID/SLURM_NTASKS_PER_NODE");
  const char* nodelist_name = env_value("SLURM_JOB_NODELIST") ? "SLURM_JOB_NODELIST" : "SLURM_NODELIST";
  const std::string nodelist = env_string(nodelist_name, "");
  std::string master = "127.0.0.1";
  if (!nodelist.empty()) master = expand_slurm_nodelist(nodelist).front();
  r.master_addr = env_string("MASTER_ADDR", master);
  r.master_port = env_int("MASTER_PORT", slurm_default_port(env_integer("SLURM_JOB_ID", 0)));
  return r;
}

// "01-03,7" -> 01 02 03 7 (width of the lower bound kept).
std::vector<std::string> expand_ranges(const std::string& ranges, const std::string& nodelist) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= ranges.size()) {
    const size_t comma = std::min(ranges.find(',', start), ranges.size());
    const std::string item = ranges.substr(start, comma - start);
    const size_t dash = item.find('-');
    const std::string lo = item.substr(0, dash), hi = dash == std::string::npos ? lo : item.substr(dash + 1);
    const auto all_digits = [](const std::string& s) {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!all_digits(lo) || !all_digits(hi) || std::stoll(hi) < std::stoll(lo)) {
      throw ConfigError("Slurm node list '" + nodelist + "': bad range '" + item + "'");
    }
    for (long long n = std::stoll(lo); n <= std::stoll(hi); ++n) {
      std::string digits = std::to_string(n);
      if (digits.size() < lo.size()) digits.insert(0, lo.size() - digits.size(), '0');
      out.push_back(digits);
    }
    start = comma + 1;
  }
  return out;
}

// One host pattern ("rack[1-2]-n[01-02]") -> its hosts.
std::vector<std::string> expand_host(const std::string& pattern, const std::string& nodelist) {
  const size_t open = pattern.find('[');
  if (open == std::string::npos) {
    if (pattern.find(']') != std::string::npos) throw ConfigError("Slurm node list '" + nodelist + "': unbalanced ']'");
    return {pattern};
  }
  const size_t close = pattern.find(']', open);
  if (close == std::string::npos) throw ConfigError("Slurm node list '" + nodelist + "': unbalanced '['");
  std::vector<std::string> out;
  const std::string prefix = pattern.substr(0, open);
  for (const auto& value : expand_ranges(pattern.substr(open + 1, close - open - 1), nodelist)) {
    for (const auto& rest : expand_host(pattern.substr(close + 1), nodelist)) out.push_back(prefix + value + rest);
  }
  return out;
}

}  // namespace

ProcessPlace process_place_from_env() {
  const ProcessPlace place{env_int("RANK", 0), env_int("WORLD_SIZE", 1)};
  check_place(place, "RANK/WORLD_SIZE");
  return place;
}

ProcessPlace resolve_process_place(int rank, int world_size, const std::string& command) {
  if ((rank >= 0) != (world_size >= 0)) throw ConfigError(command + ": give --rank and --world-size together");
  if (rank < 0) return process_place_from_env();
  const ProcessPlace place{rank, world_size};
  check_place(place, command + " --rank/--world-size");
  return place;
}

Rendezvous rendezvous_from_env() {
  if (env_value("WORLD_SIZE")) return torchrun_rendezvous();
  if (env_value("SLURM_NTASKS")) return slurm_rendezvous();
  return Rendezvous{};
}

std::vector<std::string> expand_slurm_nodelist(const std::string& nodelist) {
  std::vector<std::string> hosts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= nodelist.size(); ++i) {
    const char c = i < nodelist.size() ? nodelist[i] : ',';
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (depth < 0 || depth > 1) throw ConfigError("Slurm node list '" + nodelist + "': unbalanced brackets");
    if (c != ',' || depth != 0) continue;
    const std::string item = nodelist.substr(start, i - start);
    if (item.empty()) throw ConfigError("Slurm node list '" + nodelist + "': empty host name");
    for (auto& host : expand_host(item, nodelist)) hosts.push_back(std::move(host));
    start = i + 1;
  }
  if (depth != 0) throw ConfigError("Slurm node list '" + nodelist + "': unbalanced brackets");
  return hosts;
}

int slurm_default_port(long long job_id) { return 15000 + static_cast<int>(job_id % 20000); }

}  // namespace deeplab::core
