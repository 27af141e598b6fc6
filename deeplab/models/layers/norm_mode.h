#pragma once
// `model.norm` without any torch header, so config structs can name it.

#include <string>
#include <vector>

namespace deeplab::models {

/// bn: batch statistics in training; frozen_bn: running statistics always and
/// no trained affine (DeepLab's fine_tune_batch_norm: false); sync_bn: batch
/// statistics over all processes of a distributed run.
enum class NormMode { kBatch, kFrozen, kSync };

/// `model.norm` value -> mode; ConfigError naming the key for anything else.
NormMode parse_norm_mode(const std::string& name);
/// The accepted spellings of `model.norm`, for config validation.
const std::vector<std::string>& norm_mode_names();

}  // namespace deeplab::models
