#pragma once
// A sharded evaluation (`deeplab eval --rank r --world-size n`, one JSON per
// rank) summed into one result: the library behind `deeplab eval-merge`,
// and what a distributed run's ranks combine.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "deeplab/eval/eval_result.h"

namespace deeplab::core {
class ProcessGroup;
}

namespace deeplab::eval {

struct MergedEval {
  EvalResult result;
  nlohmann::json json;  // eval_result_json + "run" (of shard 0, rank removed) + "merged_from"
};

/// Reads the shards' JSON files and sums them.  DataError naming the file
/// when one is not valid JSON, when world sizes disagree, when a rank comes
/// twice, or when a rank is missing.
MergedEval merge_eval_shards(const std::vector<std::string>& files);

/// Sums an evaluation shard over the ranks of `group` (a collective, in
/// memory): every rank then holds what one process evaluating everything
/// would (seconds: the slowest rank's).  Every metric takes part: each rank's
/// result goes to all as its JSON and is merged in rank order.
void sum_across_ranks(EvalResult& result, core::ProcessGroup& group);

}  // namespace deeplab::eval
