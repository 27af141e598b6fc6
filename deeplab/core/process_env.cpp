#include "deeplab/core/process_env.h"

#include <cstdlib>

#include "deeplab/core/error.h"

namespace deeplab::core {
namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  size_t used = 0;
  int parsed = 0;
  try {
    parsed = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || value[used] != '\0') {
    throw ConfigError(std::string("environment variable ") + name + "='" + value + "' is not an integer");
  }
  return parsed;
}

void check_place(const ProcessPlace& place, const std::string& source) {
  if (place.world_size < 1 || place.rank < 0 || place.rank >= place.world_size) {
    throw ConfigError(source + ": rank " + std::to_string(place.rank) + " of world size " +
                      std::to_string(place.world_size) + "; expected 0 <= rank < world size");
  }
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

}  // namespace deeplab::core
