#include "deeplab/weights/pretrained_import.h"

#include "deeplab/weights/timm_import.h"
#include "deeplab/weights/torchvision_import.h"

namespace deeplab::weights {

LoadReport import_pretrained(models::DeepLabImpl& model, const std::string& path, const std::string& backbone) {
  const StateDict entries = read_state_dict(path);
  if (is_timm_xception(entries)) {
    return import_timm_xception(model, entries, path, backbone);
  }
  return import_torchvision(model, entries, path, backbone);
}

}  // namespace deeplab::weights
