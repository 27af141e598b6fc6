#pragma once
// Reads `.safetensors` files (what the model hubs serve) without a library.
// The format: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
// "__metadata__": {..}}), then the raw little-endian tensor bytes, with
// offsets counted from the end of the header.

#include <string>

#include "deeplab/weights/pth_reader.h"

namespace deeplab::weights {

/// True when `path` starts as a safetensors file does (a plausible header
/// length followed by '{'); false for torch.save zips and anything else.
bool is_safetensors_file(const std::string& path);

/// Every tensor of the file in the header's order.  Errors (IoError) name the
/// file and, where one is at fault, the tensor: bad header length or JSON,
/// unknown dtype, offsets outside the data or not matching dtype x shape.
StateDict read_safetensors(const std::string& path);

}  // namespace deeplab::weights
