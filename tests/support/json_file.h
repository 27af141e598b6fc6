#pragma once
// Reading the JSON files the CLI writes (scores, COCO panoptic, meta.json).

#include <nlohmann/json.hpp>

#include <string>

#include "deeplab/core/fs_util.h"

namespace deeplab::testing {

inline nlohmann::json read_json_file(const std::string& path) { return nlohmann::json::parse(core::read_file(path)); }

}  // namespace deeplab::testing
