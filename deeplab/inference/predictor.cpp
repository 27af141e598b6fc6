#include "deeplab/inference/predictor.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "deeplab/core/error.h"

namespace deeplab::inference {
namespace {

at::Tensor resize(const at::Tensor& x, int64_t height, int64_t width, bool align_corners) {
  return at::upsample_bilinear2d(x, {height, width}, align_corners);
}

int64_t scaled(int64_t size, double scale) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(size) * scale));
}

void check_options(const PredictorOptions& o) {
  if (o.mode != "whole" && o.mode != "slide") {
    throw ConfigError("eval.mode: '" + o.mode + "' is not a prediction mode; expected whole or slide");
  }
  if (o.scales.empty()) throw ConfigError("eval.scales: empty; expected at least one scale, e.g. [1.0]");
  for (double s : o.scales) {
    if (!(s > 0)) throw ConfigError("eval.scales: value " + std::to_string(s) + " is not > 0");
  }
  if (o.window_h < 1 || o.window_w < 1) {
    throw ConfigError("eval.window: [" + std::to_string(o.window_h) + ", " + std::to_string(o.window_w) +
                      "] must be >= 1");
  }
  if (!(o.overlap >= 0 && o.overlap < 1)) {
    throw ConfigError("eval.overlap: " + std::to_string(o.overlap) + " is outside [0, 1)");
  }
  if (o.batch_size < 1) throw ConfigError("eval.batch_size: " + std::to_string(o.batch_size) + " must be >= 1");
  if (o.pad_multiple < 0)
    throw ConfigError("eval.output_stride: pad multiple " + std::to_string(o.pad_multiple) + " < 0");
}

}  // namespace

PredictorOptions PredictorOptions::from_config(const PredictionConfig& config, int output_stride, bool align_corners) {
  PredictorOptions o;
  o.mode = config.mode;
  o.scales = config.scales;
  o.flip = config.flip;
  o.window_h = config.window.at(0);
  o.window_w = config.window.at(1);
  o.overlap = config.overlap;
  o.pad_multiple = config.pad_to_stride ? output_stride : 0;
  o.batch_size = config.batch_size;
  o.align_corners = align_corners;
  return o;
}

std::vector<int64_t> window_starts(int64_t size, int64_t window, double overlap) {
  const int64_t win = std::min(window, size);
  const int64_t stride =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(static_cast<double>(win) * (1.0 - overlap))));
  std::vector<int64_t> starts;
  for (int64_t s = 0;; s += stride) {
    if (s + win >= size) {
      starts.push_back(size - win);  // the last window ends at the border
      break;
    }
    starts.push_back(s);
  }
  return starts;
}

Predictor::Predictor(OutputsFn outputs, PredictorOptions options)
    : outputs_(std::move(outputs)), options_(std::move(options)) {
  if (!outputs_) throw ConfigError("Predictor: no segmentation function given");
  check_options(options_);
}

namespace {
// A logits function as a model with the one output "semantic".
OutputsFn semantic_only(SegmentFn segment) {
  if (!segment) return {};
  return [segment](const at::Tensor& x) {
    return models::ModelOutputs{{models::output_name::kSemantic, {segment(x), models::OutputKind::kLogits}}};
  };
}
}  // namespace

Predictor::Predictor(SegmentFn segment, PredictorOptions options)
    : Predictor(semantic_only(std::move(segment)), std::move(options)) {}

// The smallest size >= n that the model's grid fits: a multiple of the
// stride, or with align_corners (corner pixels on the grid, as deeplab2's
// 1025 x 2049 Cityscapes inputs) a multiple plus one.
int64_t Predictor::padded_size(int64_t n) const {
  const int64_t m = options_.pad_multiple;
  if (m <= 1) return n;
  return options_.align_corners ? (n - 1 + m - 1) / m * m + 1 : (n + m - 1) / m * m;
}

models::ModelOutputs Predictor::whole(const at::Tensor& images) const {
  const int64_t h = images.size(2), w = images.size(3);
  const int64_t pad_h = padded_size(h) - h, pad_w = padded_size(w) - w;
  // Zero in normalised space is the mean colour, what training pads with.
  const at::Tensor x = pad_h || pad_w ? at::constant_pad_nd(images, {0, pad_w, 0, pad_h}, 0.0) : images;
  models::ModelOutputs outputs = outputs_(x);
  if (!outputs.count(models::output_name::kSemantic)) {
    throw DataError("Predictor: the model gave no 'semantic' output");
  }
  for (auto& [name, output] : outputs) {
    at::Tensor& v = output.value;
    if (!models::follows_input_size(output.kind)) {
      models::crop_padded_output(output, x.size(2), h, w);
      continue;
    }
    if (v.dim() != 4 || v.size(0) != x.size(0) || v.size(2) != x.size(2) || v.size(3) != x.size(3)) {
      throw DataError("Predictor: the model returned '" + name + "' of shape " + c10::str(v.sizes()) + " for input " +
                      c10::str(x.sizes()) + "; expected [N, C, H, W] at the input size");
    }
    if (pad_h || pad_w) v = v.slice(2, 0, h).slice(3, 0, w);
    if (output.kind == models::OutputKind::kLogits) v = at::softmax(v, 1);
  }
  return outputs;
}

models::ModelOutputs Predictor::slide(const at::Tensor& images) const {
  const int64_t h = images.size(2), w = images.size(3);
  const auto ys = window_starts(h, options_.window_h, options_.overlap);
  const auto xs = window_starts(w, options_.window_w, options_.overlap);
  if (ys.size() == 1 && xs.size() == 1) return whole(images);  // one window: exactly the whole-image path
  const int64_t wh = std::min<int64_t>(options_.window_h, h), ww = std::min<int64_t>(options_.window_w, w);
  std::vector<std::pair<int64_t, int64_t>> corners;
  for (int64_t y : ys)
    for (int64_t x : xs) corners.emplace_back(y, x);
  models::ModelOutputs sum;
  at::Tensor count = at::zeros({1, 1, h, w}, images.options());
  const size_t batch = static_cast<size_t>(options_.batch_size);
  for (size_t first = 0; first < corners.size(); first += batch) {
    const size_t last = std::min(corners.size(), first + batch);
    std::vector<at::Tensor> crops;
    for (size_t i = first; i < last; ++i) {
      crops.push_back(
          images.slice(2, corners[i].first, corners[i].first + wh).slice(3, corners[i].second, corners[i].second + ww));
    }
    for (const auto& [name, output] : whole(at::cat(crops, 0))) {
      if (!models::follows_input_size(output.kind)) {
        throw ConfigError("eval.mode: slide stitches windows at the input size; '" + name +
                          "' stays at the model's stride (a mask transformer's), so use mode: whole");
      }
      const auto parts = output.value.split(images.size(0), 0);
      auto& total = sum[name];
      total.kind = output.kind;
      if (!total.value.defined()) total.value = at::zeros({images.size(0), parts[0].size(1), h, w}, parts[0].options());
      for (size_t i = first; i < last; ++i) {
        const auto [y, x] = corners[i];
        total.value.slice(2, y, y + wh).slice(3, x, x + ww).add_(parts[i - first]);
      }
    }
    for (size_t i = first; i < last; ++i) {
      const auto [y, x] = corners[i];
      count.slice(2, y, y + wh).slice(3, x, x + ww).add_(1);
    }
  }
  for (auto& [name, output] : sum) output.value = output.value / count;
  return sum;
}

models::ModelOutputs Predictor::at_scale(const at::Tensor& images) const {
  return options_.mode == "slide" ? slide(images) : whole(images);
}

models::ModelOutputs Predictor::outputs(const at::Tensor& images) const {
  if (images.dim() != 4 || images.size(1) != 3) {
    throw DataError("Predictor: images of shape " + c10::str(images.sizes()) + "; expected [N, 3, H, W]");
  }
  const int64_t h = images.size(2), w = images.size(3);
  models::ModelOutputs sum;
  int passes = 0;
  for (double scale : options_.scales) {
    // Scale 1 is used as is, so a single plain pass is bit-identical to the model.
    const at::Tensor x =
        scale == 1.0 ? images : resize(images, scaled(h, scale), scaled(w, scale), options_.align_corners);
    for (int flipped = 0; flipped <= (options_.flip ? 1 : 0); ++flipped) {
      for (auto& [name, output] : at_scale(flipped ? x.flip({3}) : x)) {
        if (!models::follows_input_size(output.kind) && (options_.flip || options_.scales.size() > 1)) {
          throw ConfigError("eval.scales / eval.flip: test-time augmentation averages outputs at the input size; '" +
                            name + "' stays at the model's stride (a mask transformer's), so use one scale, no flip");
        }
        if (flipped) output.value = models::flip_output(output);
        output.value = models::resize_output(output, h, w, options_.align_corners);
        auto& total = sum[name];
        total.kind = output.kind;
        total.value = total.value.defined() ? total.value + output.value : output.value;
      }
      ++passes;
    }
  }
  if (passes > 1) {
    for (auto& [name, output] : sum) output.value = output.value / passes;
  }
  return sum;
}

at::Tensor Predictor::probabilities(const at::Tensor& images) const {
  return outputs(images).at(models::output_name::kSemantic).value;
}

at::Tensor Predictor::predict(const at::Tensor& images) const { return probabilities(images).argmax(1); }

int64_t Predictor::passes(int64_t height, int64_t width) const {
  int64_t total = 0;
  for (double scale : options_.scales) {
    int64_t windows = 1;
    if (options_.mode == "slide") {
      windows = static_cast<int64_t>(window_starts(scaled(height, scale), options_.window_h, options_.overlap).size() *
                                     window_starts(scaled(width, scale), options_.window_w, options_.overlap).size());
    }
    total += windows * (options_.flip ? 2 : 1);
  }
  return total;
}

}  // namespace deeplab::inference
