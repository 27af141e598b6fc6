#pragma once
// A batch's semantic label maps (and a panoptic model's predictions), as
// `deeplab eval` scores them and `deeplab predict` writes them: the
// predictor's argmax, or its softmax refined by the dense CRF against the
// image (eval.crf).

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <opencv2/core/mat.hpp>

#include <optional>
#include <string>
#include <vector>

#include "deeplab/data/loader.h"
#include "deeplab/data/normalization.h"
#include "deeplab/inference/predictor.h"
#include "deeplab/postprocess/dense_crf_options.h"
#include "deeplab/postprocess/panoptic.h"

namespace deeplab::inference {

/// Class probabilities, float [N, C, H, W] on the CPU, refined by the CRF
/// when `crf` is set (as predict_label_maps below).
at::Tensor predict_probabilities(const Predictor& predictor, const data::Batch& batch, c10::Device device,
                                 const std::optional<postprocess::DenseCrfOptions>& crf,
                                 const data::Normalization& normalization);

/// int64 [N, H, W] on the CPU.  With `crf`, the images of the batch are
/// refined in parallel (each CRF runs on one thread); `normalization` undoes
/// the batch's normalisation to give the CRF the image's colours.
at::Tensor predict_label_maps(const Predictor& predictor, const data::Batch& batch, c10::Device device,
                              const std::optional<postprocess::DenseCrfOptions>& crf,
                              const data::Normalization& normalization);

/// The dense CRF on each image of `batch`: probabilities float [N, C, H, W]
/// (at the batch's size, on the CPU) refined against the images' colours, in
/// parallel (each CRF on one thread).
at::Tensor dense_crf_batch(const at::Tensor& probabilities, const data::Batch& batch,
                           const postprocess::DenseCrfOptions& crf, const data::Normalization& normalization);

/// A panoptic model's predictions for `batch`: its outputs merged by the
/// post-processing; with `crf`, the semantic softmax is refined by the dense
/// CRF first (the merge then takes the refined argmax and class votes).
std::vector<postprocess::PanopticPrediction> predict_panoptic(const Predictor& predictor, const data::Batch& batch,
                                                              c10::Device device,
                                                              const postprocess::PanopticOptions& panoptic,
                                                              const std::optional<postprocess::DenseCrfOptions>& crf,
                                                              const data::Normalization& normalization);

/// One image's label map [H, W] (any integer type) as CV_8UC1 for PNG
/// writers; DataError naming `id` and `what` when a value exceeds 255.
cv::Mat label_map_to_mat(const at::Tensor& values, const std::string& what, const std::string& id);

}  // namespace deeplab::inference
