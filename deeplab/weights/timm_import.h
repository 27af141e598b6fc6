#pragma once
// timm's aligned Xception (timm/models/xception_aligned.py: xception65,
// xception71; the `tf_in1k` tags are TF DeepLab's ImageNet weights) -> our
// Xception backbone.  The layers are the same; only the names differ:
//   stem.0.conv / stem.0.bn             -> backbone.conv1 / backbone.bn1 (stem.1 -> conv2 / bn2)
//   blocks.<i>.stack.conv<k>.conv_dw    -> backbone.block<i+1>.sepconv<k>.depthwise (bn_dw -> bn_depthwise,
//                                          conv_pw -> pointwise, bn_pw -> bn_pointwise)
//   blocks.<i>.shortcut.conv / .bn      -> backbone.block<i+1>.shortcut / shortcut_bn
//   head.fc                             -> dropped (the ImageNet classifier)
// The 16 middle-flow blocks have the same shapes, so a wrong block index
// would load without a shape error: the import test checks a forward pass.

#include <string>

#include "deeplab/models/deeplab.h"
#include "deeplab/weights/pth_reader.h"
#include "deeplab/weights/state_dict.h"

namespace deeplab::weights {

/// True when `entries` are timm XceptionAligned weights (stem.* and blocks.* keys).
bool is_timm_xception(const StateDict& entries);

/// The Xception depth the entries hold (65: 21 blocks, 71: 23); throws naming `source`.
int timm_xception_depth(const StateDict& entries, const std::string& source);

/// `entries` in our names (head.fc dropped; keys outside the layout pass
/// through unchanged, so a load reports them as unexpected).
StateDict timm_xception_to_ours(const StateDict& entries);

/// Loads timm Xception weights into `model`'s backbone (every backbone tensor
/// must be filled; the head stays as initialised).  `backbone` is the
/// configured model.backbone.name: xception65 or xception71, as the file.
LoadReport import_timm_xception(models::DeepLabImpl& model, const StateDict& entries, const std::string& source,
                                const std::string& backbone);

}  // namespace deeplab::weights
