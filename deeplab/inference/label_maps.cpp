#include "deeplab/inference/label_maps.h"

#include <ATen/Parallel.h>
#include <opencv2/core/mat.hpp>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/postprocess/dense_crf.h"
#include "deeplab/postprocess/mask_panoptic.h"

namespace deeplab::inference {

at::Tensor predict_label_maps(const Predictor& predictor, const data::Batch& batch, c10::Device device,
                              const std::optional<postprocess::DenseCrfOptions>& crf,
                              const data::Normalization& normalization) {
  if (!crf) return predictor.predict(batch.images.to(device)).to(torch::kCPU).to(torch::kLong).contiguous();
  return predict_probabilities(predictor, batch, device, crf, normalization).argmax(1);
}

at::Tensor predict_probabilities(const Predictor& predictor, const data::Batch& batch, c10::Device device,
                                 const std::optional<postprocess::DenseCrfOptions>& crf,
                                 const data::Normalization& normalization) {
  const at::Tensor probs = predictor.probabilities(batch.images.to(device)).to(torch::kCPU, torch::kFloat);
  return crf ? dense_crf_batch(probs, batch, *crf, normalization) : probs;
}

at::Tensor dense_crf_batch(const at::Tensor& probabilities, const data::Batch& batch,
                           const postprocess::DenseCrfOptions& crf, const data::Normalization& normalization) {
  at::Tensor refined = at::empty_like(probabilities);
  at::parallel_for(0, probabilities.size(0), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const cv::Mat rgb = data::to_rgb8(batch.images[i], normalization);
      const at::Tensor image = at::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, at::kByte);
      refined[i].copy_(postprocess::dense_crf(image, probabilities[i], crf));
    }
  });
  return refined;
}

std::vector<postprocess::PanopticPrediction> predict_panoptic(const Predictor& predictor, const data::Batch& batch,
                                                              c10::Device device,
                                                              const postprocess::PanopticOptions& panoptic,
                                                              const std::optional<postprocess::DenseCrfOptions>& crf,
                                                              const data::Normalization& normalization) {
  const models::ModelOutputs outputs = predictor.outputs(batch.images.to(device));
  if (panoptic.mask_wise) {
    if (crf) throw ConfigError("eval.crf: a mask transformer's panoptic result has no semantic softmax to refine");
    for (const std::string& name : {models::output_name::kMaskLogits, models::output_name::kClassLogits}) {
      if (!outputs.count(name))
        throw DataError("predict_panoptic: mask-wise merging needs the model output '" + name + "'");
    }
    return postprocess::mask_panoptic_batch(outputs.at(models::output_name::kMaskLogits).value,
                                            outputs.at(models::output_name::kClassLogits).value, *panoptic.mask_wise,
                                            batch.images.size(2), batch.images.size(3));
  }
  at::Tensor semantic = outputs.at(models::output_name::kSemantic).value;
  if (crf) {  // the refined softmax's log: argmax and votes as the probabilities give them
    const at::Tensor probs = semantic.to(torch::kCPU, torch::kFloat).softmax(1);
    semantic = dense_crf_batch(probs, batch, *crf, normalization).clamp_min(1e-8).log().to(semantic.device());
  }
  return postprocess::panoptic_from_batch(semantic, outputs.at(models::output_name::kCenter).value,
                                          outputs.at(models::output_name::kOffset).value, panoptic);
}

cv::Mat label_map_to_mat(const at::Tensor& values, const std::string& what, const std::string& id) {
  if (values.numel() > 0 && values.max().item<int64_t>() > 255) {
    throw DataError(id + ": " + what + " value " + std::to_string(values.max().item<int64_t>()) +
                    " does not fit an 8-bit PNG");
  }
  const at::Tensor bytes = values.to(torch::kByte).contiguous();
  return cv::Mat(static_cast<int>(bytes.size(0)), static_cast<int>(bytes.size(1)), CV_8UC1, bytes.data_ptr<uint8_t>())
      .clone();
}

}  // namespace deeplab::inference
