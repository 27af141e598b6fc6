#pragma once
// Panoptic quality (PQ = SQ x RQ) with exactly the COCO panopticapi rules:
//
// - a ground-truth and a predicted segment of the same category match when
//   IoU > 0.5 (strictly); the union leaves out the predicted segment's pixels
//   on VOID (ground-truth id 0);
// - crowd ground-truth segments are never matched;
// - an unmatched predicted segment more than half of which lies on VOID or on
//   the crowd region of its own category is ignored, not a false positive;
// - ground-truth areas come from the annotations, predicted areas from the pixels;
// - a category with no TP, FP or FN is left out of the averages.
//
// Beyond panopticapi, a ground-truth id in the PNG but not in its annotation is
// an error here (panopticapi silently ignores such pixels).

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::eval {

/// Matching statistics of one category (panopticapi's PQStatCat).
struct PqCounts {
  double iou = 0.0;  // sum of the IoUs of the matches
  int64_t tp = 0;
  int64_t fp = 0;
  int64_t fn = 0;
};

struct PqAverage {
  double pq = 0.0, sq = 0.0, rq = 0.0;
  int n = 0;  // categories averaged
};

struct PqClassResult {
  postprocess::PanopticCategory category;
  PqCounts counts;
  double pq = 0.0, sq = 0.0, rq = 0.0;  // 0 where the class is left out
  bool counted = false;                 // has TP + FP + FN > 0
};

/// Averages over All / Things / Stuff and per-class results, fractions in [0, 1].
struct PanopticResult {
  PqAverage all, things, stuff;
  std::vector<PqClassResult> per_class;
};

/// Accumulates PQ statistics image by image; mergeable across workers.
class PanopticQuality {
 public:
  explicit PanopticQuality(std::vector<postprocess::PanopticCategory> categories);

  /// One image of `num_pixels` pixels given as segment ids.  Throws DataError
  /// naming `image` and the segment for malformed input (see panoptic_quality.h).
  void add(const uint32_t* gt_ids, const std::vector<postprocess::PanopticSegment>& gt_segments,
           const uint32_t* pred_ids, const std::vector<postprocess::PanopticSegment>& pred_segments, size_t num_pixels,
           const std::string& image);

  PanopticQuality& merge(const PanopticQuality& other);
  /// Adds statistics indexed like `categories()` (a shard's, read back or
  /// all-reduced); DataError when the count differs.
  void add_counts(const std::vector<PqCounts>& counts);

  const std::vector<postprocess::PanopticCategory>& categories() const { return categories_; }
  /// Statistics indexed like `categories()`.
  const std::vector<PqCounts>& counts() const { return counts_; }

  PanopticResult result() const;

 private:
  PqCounts& counts_of(int category_id);

  std::vector<postprocess::PanopticCategory> categories_;
  std::map<int, size_t> index_;
  std::vector<PqCounts> counts_;
};

/// JSON shaped like panopticapi's result: `All`, `Things`, `Stuff` ({pq, sq, rq, n}) and `per_class`.
nlohmann::json panoptic_result_json(const PanopticResult& result);
/// The summary table in percent (as panopticapi prints it) plus per-class rows.
std::string format_panoptic_table(const PanopticResult& result, bool per_class = true);

}  // namespace deeplab::eval
