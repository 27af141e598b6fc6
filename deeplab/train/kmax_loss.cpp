#include "deeplab/train/kmax_loss.h"

#include <torch/torch.h>

#include <string>

#include "deeplab/core/error.h"
#include "deeplab/data/loader.h"

namespace deeplab::train {

namespace {

// deeplab2's strided_downsample: output pixel i reads input pixel i x stride.
torch::Tensor strided_rows(int64_t to, int64_t from) {
  const int64_t stride = std::max<int64_t>(1, (from + to - 1) / to);
  return (torch::arange(to, torch::kLong) * stride).clamp_max(from - 1);
}

torch::Tensor strided_downsample(const torch::Tensor& x, int64_t height, int64_t width) {
  if (x.size(1) == height && x.size(2) == width) return x;
  return x.index_select(1, strided_rows(height, x.size(1))).index_select(2, strided_rows(width, x.size(2)));
}

const torch::Tensor& output_named(const models::ModelOutputs& outputs, const std::string& name) {
  const auto it = outputs.find(name);
  if (it == outputs.end()) throw ConfigError("the MaX-DeepLab loss needs a '" + name + "' model output");
  return it->second.value;
}

MaXPrediction prediction_named(const models::ModelOutputs& outputs, const std::string& prefix) {
  const auto named = [&](const std::string& name) {
    // The MaX losses run in fp32 under autocast; fp64 stays fp64.
    const torch::Tensor& x = output_named(outputs, prefix + name);
    return x.scalar_type() == torch::kDouble ? x : x.to(torch::kFloat);
  };
  return {named(models::output_name::kPixelEmbedding), named(models::output_name::kMaskLogits),
          named(models::output_name::kClassLogits)};
}

std::vector<uint64_t> sample_seeds(const data::Batch& batch) {
  if (batch.seeds.size() == static_cast<size_t>(batch.labels.size(0))) return batch.seeds;
  // A batch made outside the loader: its dataset indices.
  std::vector<uint64_t> seeds;
  for (const size_t index : batch.indices) seeds.push_back(static_cast<uint64_t>(index));
  if (seeds.size() != static_cast<size_t>(batch.labels.size(0))) {
    throw ConfigError("the MaX-DeepLab loss needs a seed (or dataset index) per image of the batch");
  }
  return seeds;
}

}  // namespace

MaXTargets max_targets_from_batch(const data::Batch& batch, int64_t height, int64_t width,
                                  const MaXLossOptions& options) {
  if (!batch.instances.defined()) {
    throw ConfigError("the MaX-DeepLab loss needs instance maps (data.dataset: cityscapes_panoptic or coco_panoptic)");
  }
  const torch::Tensor semantic = strided_downsample(batch.labels.cpu(), height, width).to(torch::kLong).contiguous();
  const torch::Tensor instances = strided_downsample(batch.instances.cpu(), height, width).to(torch::kLong);
  torch::Tensor is_thing = torch::zeros_like(semantic, torch::kBool);
  for (const int64_t t : options.thing_ids) is_thing |= semantic == t;
  const torch::Tensor instance_pixel = is_thing & (instances >= 1000);  // below 1000: crowd

  const int64_t n = semantic.size(0);
  MaXTargets targets;
  targets.semantic = semantic;
  targets.thing_ids = torch::full_like(semantic, -1);
  targets.thing_classes = torch::full({n, options.max_things}, -1, torch::kLong);
  for (int64_t b = 0; b < n; ++b) {
    const torch::Tensor mask = instance_pixel[b];
    if (!mask.any().item<bool>()) continue;
    const torch::Tensor values = instances[b].masked_select(mask);
    const auto [unique, inverse, counts] = torch::_unique2(values, /*sorted=*/true, /*return_inverse=*/true);
    if (unique.size(0) > options.max_things) {
      throw DataError((b < static_cast<int64_t>(batch.ids.size()) ? batch.ids[static_cast<size_t>(b)] : "an image") +
                      ": " + std::to_string(unique.size(0)) + " thing instances in the crop, more than the " +
                      std::to_string(options.max_things) + " mask columns of the MaX-DeepLab loss");
    }
    targets.thing_ids[b].masked_scatter_(mask, inverse);
    // Every pixel of an instance has its class; any one of them names it.
    const torch::Tensor classes = semantic[b].masked_select(mask);
    targets.thing_classes[b].slice(0, 0, unique.size(0)).index_put_({inverse}, classes);
  }
  return targets;
}

KMaXLoss::KMaXLoss(LossConfig config, int num_classes, int ignore_label, std::vector<int> thing_ids,
                   GlobalSum global_sum)
    : config_(config), semantic_(config, num_classes, ignore_label, global_sum), global_sum_(std::move(global_sum)) {
  options_.num_classes = num_classes;
  options_.ignore_label = ignore_label;
  options_.thing_ids.assign(thing_ids.begin(), thing_ids.end());
  options_.pq_weight = config.pq_weight;
  options_.mask_id_weight = config.mask_id_weight;
  options_.instance_weight = config.instance_weight;
  options_.instance_temperature = config.instance_temperature;
}

LossTerms KMaXLoss::terms(const models::ModelOutputs& outputs, const data::Batch& batch) const {
  const MaXPrediction final_prediction = prediction_named(outputs, "");
  std::vector<MaXPrediction> layers;
  for (int i = 0; outputs.count(models::output_name::layer(i, models::output_name::kMaskLogits)); ++i) {
    layers.push_back(prediction_named(outputs, models::output_name::layer(i, "")));
  }
  const torch::Tensor& masks = final_prediction.mask_logits;
  MaXTargets targets = max_targets_from_batch(batch, masks.size(2), masks.size(3), options_);
  if (options_.instance_weight > 0) {
    targets.samples = sample_instance_pixels(targets, options_, config_.instance_sample_k,
                                             config_.instance_sample_temperature, sample_seeds(batch));
  }
  const torch::Device device = masks.device();
  targets.semantic = targets.semantic.to(device);
  targets.thing_ids = targets.thing_ids.to(device);
  targets.thing_classes = targets.thing_classes.to(device);
  if (targets.samples.defined()) targets.samples = targets.samples.to(device);

  LossTerms terms;
  if (config_.semantic_weight > 0) {
    if (!batch.semantic_weights.defined()) {
      throw ConfigError("the MaX-DeepLab loss needs the loader's 'semantic_weights' (panoptic targets)");
    }
    const torch::Tensor& semantic = output_named(outputs, models::output_name::kSemantic);
    terms.emplace_back(models::output_name::kSemantic,
                       config_.semantic_weight * semantic_(semantic, batch.labels, batch.semantic_weights));
  }
  for (auto& term : max_deeplab_loss(final_prediction, layers, targets, options_, global_sum_)) {
    terms.push_back(std::move(term));
  }
  return terms;
}

LossFn KMaXLoss::as_function(LossConfig config, int num_classes, int ignore_label, std::vector<int> thing_ids,
                             GlobalSum global_sum) {
  auto loss = std::make_shared<const KMaXLoss>(std::move(config), num_classes, ignore_label, std::move(thing_ids),
                                               std::move(global_sum));
  return [loss](const models::ModelOutputs& outputs, const data::Batch& batch) { return loss->terms(outputs, batch); };
}

}  // namespace deeplab::train
