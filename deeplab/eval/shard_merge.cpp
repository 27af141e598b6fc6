#include "deeplab/eval/shard_merge.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/process_group.h"

namespace deeplab::eval {
namespace {

// Every rank 0..n-1 exactly once, so every image counts exactly once.
void check_shards_complete(const std::vector<nlohmann::json>& shards, const std::vector<std::string>& files) {
  using nlohmann::json;
  std::set<int> ranks;
  const int world = shards.front().value(json::json_pointer("/run/world_size"), 1);
  for (size_t i = 0; i < shards.size(); ++i) {
    const int w = shards[i].value(json::json_pointer("/run/world_size"), 1);
    const int r = shards[i].value(json::json_pointer("/run/rank"), 0);
    if (w != world) {
      throw DataError(files[i] + ": world size " + std::to_string(w) + ", but " + files[0] + " says " +
                      std::to_string(world));
    }
    if (!ranks.insert(r).second) throw DataError(files[i] + ": rank " + std::to_string(r) + " given twice");
  }
  if (static_cast<int>(ranks.size()) != world) {
    throw DataError("eval-merge: " + std::to_string(ranks.size()) + " shard(s) of a world size of " +
                    std::to_string(world) + "; every rank must be given once");
  }
}

}  // namespace

MergedEval merge_eval_shards(const std::vector<std::string>& files) {
  if (files.empty()) throw DataError("eval-merge: no shard files given");
  std::vector<nlohmann::json> shards;
  for (const auto& f : files) {
    try {
      shards.push_back(nlohmann::json::parse(core::read_file(f)));
    } catch (const nlohmann::json::exception& e) {
      throw DataError(f + ": not valid JSON (" + e.what() + ")");
    }
  }
  check_shards_complete(shards, files);
  MergedEval merged{eval_result_from_json(shards[0], files[0]), {}};
  for (size_t i = 1; i < shards.size(); ++i) merged.result.merge(eval_result_from_json(shards[i], files[i]));
  merged.json = eval_result_json(merged.result);
  merged.json["run"] = shards[0].value("run", nlohmann::json::object());
  merged.json["run"].erase("rank");
  merged.json["merged_from"] = files;
  return merged;
}

// Each rank's result as JSON bytes, gathered by all: every rank merges the
// same results in the same order, so all hold the same sums, exactly.
void sum_across_ranks(eval::EvalResult& result, core::ProcessGroup& group) {
  const std::string mine = eval_result_json(result).dump();
  const auto lengths = group.all_gather(torch::tensor({static_cast<int64_t>(mine.size())}, torch::kLong));
  int64_t longest = 0;
  for (const auto& l : lengths) longest = std::max(longest, l.item<int64_t>());
  auto bytes = torch::zeros({longest}, torch::kByte);
  std::memcpy(bytes.data_ptr<uint8_t>(), mine.data(), mine.size());
  const auto gathered = group.all_gather(bytes);
  EvalResult sum;
  for (size_t r = 0; r < gathered.size(); ++r) {
    const auto* data = reinterpret_cast<const char*>(gathered[r].contiguous().data_ptr<uint8_t>());
    const std::string text(data, static_cast<size_t>(lengths[r].item<int64_t>()));
    const std::string source = "rank " + std::to_string(r) + "'s evaluation";
    EvalResult shard = eval_result_from_json(nlohmann::json::parse(text), source);
    if (r == 0) {
      sum = std::move(shard);
    } else {
      sum.merge(shard);
    }
  }
  result = std::move(sum);
}

}  // namespace deeplab::eval
