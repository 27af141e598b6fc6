#pragma once
// Scoring folders of label PNGs, as `deeplab eval-semantic` does.
//
// Generic mode: ground truth and prediction PNGs (index, palette or gray) are
// matched by file stem, searched recursively; a file without a partner, a
// stem found twice, or a size mismatch is an error naming the files.
//
// Cityscapes mode: the ground truth is a `gtFine` tree of
// `<city>_<seq>_<frame>_gtFine_labelIds.png` with `*_gtFine_instanceIds.png`
// beside each; predictions are label-id PNGs found recursively by their
// `<city>_<seq>_<frame>` prefix (as cityscapesScripts finds them: other files
// in the prediction folder are ignored, a missing or doubled one is an error).

#include <string>
#include <vector>

#include "deeplab/eval/cityscapes_metrics.h"
#include "deeplab/eval/confusion_matrix.h"

namespace deeplab::eval {

/// A ground-truth file and the prediction scored against it.
struct FilePair {
  std::string gt;
  std::string pred;
};

/// Pairs by stem (generic mode); throws DataError naming unmatched or doubled files.
std::vector<FilePair> match_by_stem(const std::string& gt_dir, const std::string& pred_dir);
/// Pairs `*_gtFine_labelIds.png` with predictions by `<city>_<seq>_<frame>` prefix.
std::vector<FilePair> match_cityscapes(const std::string& gt_dir, const std::string& pred_dir);

/// Confusion matrix of all pairs; `threads` workers each take a contiguous share and are merged in order.
ConfusionMatrix evaluate_semantic_files(const std::vector<FilePair>& pairs, int num_classes, int ignore_index,
                                        int threads = 1);
/// Cityscapes statistics (label ids, instances from the `*_instanceIds.png` beside each ground truth).
CityscapesEvaluator evaluate_cityscapes_files(const std::vector<FilePair>& pairs, int threads = 1);

}  // namespace deeplab::eval
