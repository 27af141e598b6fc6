#pragma once
// Reads Python `torch.save` files (the zip format of PyTorch >= 1.6) in C++.
// LibTorch 1.13's torch::pickle_load turns the OrderedDict of every
// state_dict() into None, so this reads the zip records itself and unpickles
// data.pkl with our own Unpickler, building tensors from the storage records.

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "deeplab/weights/unpickler.h"

namespace deeplab::weights {

/// (dotted name, tensor) pairs in the file's order.
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

/// The whole object a `torch.save` file holds, tensors resolved (views of
/// shared storages stay views, as in Python).  Throws IoError naming `path`.
PickleRef read_pth_object(const std::string& path);

/// The state dict in a `torch.save` file: the top-level dict itself, or the
/// dict under `state_dict` or `model` of a checkpoint.  Every value must be a
/// tensor; errors name the file and the key.  A `.safetensors` file (told by
/// its content, not its name) is read too (safetensors_reader.h).
StateDict read_state_dict(const std::string& path);

/// The state dict inside an already read object; `source` names it in errors.
StateDict state_dict_from_object(const PickleRef& object, const std::string& source);

}  // namespace deeplab::weights
