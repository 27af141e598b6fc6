#include "deeplab/weights/model_io.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/factory.h"
#include "deeplab/weights/pretrained_import.h"

namespace deeplab::weights {

models::DeepLab load_model(const models::ModelConfig& config, const std::string& weights) {
  models::DeepLab model = models::build_model(config);
  if (weights.empty()) throw ConfigError("no weights given: pass --weights FILE");
  load_state_dict_file(*model, weights);
  return model;
}

std::string initialise_model(models::DeepLabImpl& model, const models::ModelConfig& config) {
  if (!config.init.empty()) {
    load_state_dict_file(model, config.init);
    return config.init;
  }
  if (!config.backbone.pretrained.empty()) {
    import_pretrained(model, config.backbone.pretrained, config.backbone.name);
    return config.backbone.pretrained;
  }
  return "";
}

std::string describe_arch(const models::ModelConfig& config) {
  return config.arch + "/" + config.backbone.name + "/os" + std::to_string(config.backbone.output_stride);
}

}  // namespace deeplab::weights
