#pragma once
// Writes a state dict as Python's `torch.save(OrderedDict)` does: the zip
// layout of PyTorch >= 1.6 (data.pkl, data/<n> storages, byteorder, version)
// and a pickle made only of what `torch.load(weights_only=True)` accepts
// (OrderedDict, torch._utils._rebuild_tensor_v2, torch.*Storage).  LibTorch's
// own pickle_save tags its dicts with torch.jit._pickle.restore_type_tag,
// which PyTorch 2.6+ refuses to load by default.

#include <string>

#include "deeplab/weights/pth_reader.h"

namespace deeplab::weights {

/// The bytes of a `torch.save` file holding `entries` as an OrderedDict, in
/// order; tensors are copied to the CPU.  IoError on a duplicate key.
std::string pth_bytes(const StateDict& entries, const std::string& source = "state dict");

/// Writes pth_bytes(entries) to `path` atomically.
void write_pth(const StateDict& entries, const std::string& path);

}  // namespace deeplab::weights
