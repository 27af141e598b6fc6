#pragma once
// Training test fixtures built in memory: synthetic VOC-layout scenes from
// the project's generator, a loader over them, and a trainer from its parts,
// so training tests neither write datasets nor go through a config file.

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "deeplab/data/cityscapes_labels.h"
#include "deeplab/data/loader.h"
#include "deeplab/data/memory_dataset.h"
#include "deeplab/data/synth/scene_generator.h"
#include "deeplab/data/transforms.h"
#include "deeplab/models/factory.h"
#include "deeplab/train/trainer.h"
#include "tests/support/test_support.h"

namespace deeplab::testing {

constexpr int kVocClasses = 21;

/// `num` VOC-layout scenes of size x size (train ids 0..6, 255 boundaries).
inline std::shared_ptr<data::MemoryDataset> memory_voc(int num, int size, uint64_t seed = 5) {
  std::vector<data::Sample> samples;
  for (int i = 0; i < num; ++i) {
    auto scene = data::synth::render_voc_scene(size, size, data::synth::kMaxVocObjectClasses, seed + i);
    samples.push_back({"scene_" + std::to_string(i), scene.image, scene.label, cv::Mat()});
  }
  return std::make_shared<data::MemoryDataset>(std::move(samples), kVocClasses);
}

constexpr int kCityscapesClasses = 19;
/// Cityscapes' thing train ids (person ... bicycle).
inline const std::vector<int> kCityscapesThings = {11, 12, 13, 14, 15, 16, 17, 18};

/// `num` Cityscapes-layout street scenes of height x width with instance maps.
inline std::shared_ptr<data::MemoryDataset> memory_cityscapes(int num, int height, int width, uint64_t seed = 5) {
  const auto to_train = data::cityscapes_id_to_train_id();
  std::vector<data::Sample> samples;
  for (int i = 0; i < num; ++i) {
    auto scene = data::synth::render_cityscapes_scene(height, width, seed + i);
    cv::Mat label = scene.label.clone();  // the generator writes Cityscapes label ids
    label.forEach<uint8_t>([&](uint8_t& v, const int*) { v = to_train[v]; });
    samples.push_back({"street_" + std::to_string(i), scene.image, label, scene.instances});
  }
  return std::make_shared<data::MemoryDataset>(std::move(samples), kCityscapesClasses);
}

/// A small kMaX-DeepLab (MobileNet-V2 at stride 32, 8 slots, narrow pixel
/// decoder) for Cityscapes' 19 classes, seeded.
inline models::DeepLab tiny_kmax(const std::string& norm = "bn", double drop_path_keep = 0.8) {
  torch::manual_seed(testing::test_seed(0));
  models::ModelConfig m;
  m.arch = "kmax_deeplab";
  m.num_classes = kCityscapesClasses;
  m.backbone.name = "mobilenet_v2";
  m.backbone.output_stride = 32;
  m.kmax.slots = 8;
  m.kmax.decoder_dims = {16, 16, 8, 8};
  m.kmax.decoder_blocks = {1, 1, 1, 1};
  m.kmax.semantic_decoder = false;
  m.kmax.drop_path_keep = drop_path_keep;
  m.norm = norm;
  return models::build_model(m);
}

/// A small MaX-DeepLab (MaX-DeepLab-S's structure at an eighth of its width
/// and a third of its units, 4 slots) for Cityscapes' 19 classes, seeded.
inline models::DeepLab tiny_max(const std::string& norm = "bn") {
  torch::manual_seed(testing::test_seed(0));
  models::ModelConfig m;
  m.arch = "max_deeplab";
  m.num_classes = kCityscapesClasses;
  m.backbone.name = "max_deeplab_s_backbone";
  m.backbone.output_stride = 16;
  m.backbone.width_mult = 0.125;
  m.backbone.stem_width_mult = 0.25;
  m.backbone.layer_mult = 0.34;
  m.max.slots = 4;
  m.max.memory_channels = 32;
  m.max.transformer_expansion = 0.25;
  m.max.ffn_channels = 64;
  m.max.slot_feature_channels = 32;
  m.max.embedding_channels = 16;
  m.max.head_channels = 32;
  m.max.semantic_projections = {8, 8};
  m.norm = norm;
  return models::build_model(m);
}

/// A loader over `dataset`: training pipeline (random scale, crop, flip) when
/// `train`, else the evaluation pipeline (no augmentation, no shuffle).
inline std::unique_ptr<data::Loader> memory_loader(std::shared_ptr<const data::Dataset> dataset, int batch, int crop,
                                                   bool train, uint64_t seed = 0, bool pin_memory = false) {
  data::DataConfig d;
  d.crop_size = {crop, crop};
  d.batch_size = batch;
  d.workers = 0;
  auto options = data::LoaderOptions::from_config(d, train, seed);
  options.pin_memory = pin_memory;
  return std::make_unique<data::Loader>(std::move(dataset),
                                        data::Transform(data::TransformOptions::from_config(d, train)), options);
}

/// A small DeepLabv3 (MobileNet-V3-small x0.5, 16-channel head) with the
/// given norm mode, optional aux head and head dropout (0: off), seeded.
inline models::DeepLab tiny_deeplab(const std::string& norm = "bn", bool aux = false, double dropout = -1) {
  torch::manual_seed(testing::test_seed(0));
  models::ModelConfig m;
  m.arch = "deeplabv3";
  m.num_classes = kVocClasses;
  m.backbone.name = "mobilenet_v3_small";
  m.backbone.width_mult = 0.5;
  m.head.channels = 16;
  m.head.dropout = dropout;  // -1: the architecture's default
  m.aux_loss = aux;
  m.norm = norm;
  return models::build_model(m);
}

/// A trainer of `model` from its parts: the model's head lr, poly schedule,
/// cross-entropy terms.
inline train::Trainer trainer_from_parts(models::DeepLab model, std::unique_ptr<data::Loader> loader,
                                         const train::TrainConfig& config, const std::string& work_dir,
                                         c10::Device device = c10::Device(c10::kCPU)) {
  train::GroupedOptimizer optimizer(*model, model->head_parameters(), config);
  train::LrSchedule schedule(config.lr, config.max_iters, config.schedule);
  return train::Trainer(std::move(model), std::move(loader), std::move(optimizer), std::move(schedule),
                        train::SegmentationLoss::as_function(config.loss, kVocClasses, 255),
                        train::TrainerOptions::from_config(config, work_dir, device));
}

}  // namespace deeplab::testing
