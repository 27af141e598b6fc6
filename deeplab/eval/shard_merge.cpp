#include "deeplab/eval/shard_merge.h"

#include <torch/torch.h>

#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/process_group.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::eval {
namespace {

std::vector<std::string> class_names_of(const nlohmann::json& json) {
  std::vector<std::string> names;
  for (const auto& c : json.value("per_class", nlohmann::json::array())) names.push_back(c.value("name", ""));
  return names;
}

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
  MergedEval merged{eval_result_from_json(shards[0], files[0]), class_names_of(shards[0]), {}};
  for (size_t i = 1; i < shards.size(); ++i) merged.result.merge(eval_result_from_json(shards[i], files[i]));
  merged.json = eval_result_json(merged.result, merged.class_names);
  merged.json["run"] = shards[0].value("run", nlohmann::json::object());
  merged.json["run"].erase("rank");
  merged.json["merged_from"] = files;
  return merged;
}

// The int64 confusion matrix and the counts in one all-reduce.
void sum_across_ranks(eval::EvalResult& result, core::ProcessGroup& group) {
  auto counts = torch::from_blob(result.matrix.data(), {static_cast<int64_t>(result.matrix.size())}, torch::kLong);
  auto totals = torch::cat({counts, torch::tensor({result.images, result.forward_passes}, torch::kLong)});
  group.all_reduce(totals);
  counts.copy_(totals.narrow(0, 0, counts.numel()));
  result.images = totals[counts.numel()].item<int64_t>();
  result.forward_passes = totals[counts.numel() + 1].item<int64_t>();
  if (result.panoptic) {
    // iou sums and counts as float64: exact for counts below 2^53.
    const auto& local = result.panoptic->counts();
    auto stats = torch::zeros({static_cast<int64_t>(local.size()), 4}, torch::kDouble);
    for (size_t i = 0; i < local.size(); ++i) {
      stats[static_cast<int64_t>(i)] = torch::tensor({local[i].iou, double(local[i].tp), double(local[i].fp),
                                                      double(local[i].fn)}, torch::kDouble);
    }
    group.all_reduce(stats);
    std::vector<PqCounts> totals(local.size());
    for (size_t i = 0; i < local.size(); ++i) {
      const auto row = stats[static_cast<int64_t>(i)];
      totals[i] = {row[0].item<double>(), row[1].item<int64_t>(), row[2].item<int64_t>(), row[3].item<int64_t>()};
    }
    PanopticQuality summed(result.panoptic->categories());
    summed.add_counts(totals);
    result.panoptic = std::move(summed);
  }
  auto seconds = group.all_gather(torch::tensor({result.seconds}, torch::kDouble));
  for (const auto& s : seconds) result.seconds = std::max(result.seconds, s.item<double>());
  result.shards = group.world_size();
}

}  // namespace deeplab::eval
