#pragma once
// What an exported TorchScript file says about its model.  Stored as the
// extra file meta.json, so Python reads it with
//   torch.jit.load(f, _extra_files={"meta.json": ""})
// and C++ with read_export_metadata(path) (or torch::jit::load's extra files).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace deeplab::exporting {

/// Name of the extra file holding the metadata JSON.
inline constexpr const char* kMetadataFile = "meta.json";

/// Model description stored beside the traced graph.
struct ExportMetadata {
  std::string arch;                       // e.g. "deeplabv3plus/resnet101/os16"
  std::vector<std::string> class_names;   // index = class id
  std::vector<std::vector<int>> palette;  // [r, g, b] per class id: the dataset descriptor's colours
  std::vector<double> mean;               // input normalisation, per channel
  std::vector<double> std;
  std::vector<int64_t> input_size;           // traced (height, width); any size runs
  std::map<std::string, std::string> extra;  // free-form facts (output stride, align_corners ...)

  bool operator==(const ExportMetadata& o) const {
    return arch == o.arch && class_names == o.class_names && palette == o.palette && mean == o.mean && std == o.std &&
           input_size == o.input_size && extra == o.extra;
  }
};

/// Strict JSON (Python's json.loads reads it); non-finite numbers are an Error.
std::string metadata_to_json(const ExportMetadata& meta);

/// Parses metadata_to_json's output; errors name `source` and the field.
ExportMetadata metadata_from_json(const std::string& json, const std::string& source);

}  // namespace deeplab::exporting
