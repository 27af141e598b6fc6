#include "deeplab/data/panoptic_targets.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>

#include "deeplab/core/error.h"

namespace deeplab::data {
namespace {

constexpr int32_t kFirstInstance = 1000;  // Cityscapes instanceIds: values >= 1000 are instances
constexpr int32_t kNoInstance = -1, kCrowd = -2;

struct Instance {
  double sum_y = 0, sum_x = 0;
  int64_t area = 0;
  int cy = 0, cx = 0;
  float semantic_weight = 1;
};

/// Pass 1: each pixel's instance slot (or kNoInstance / kCrowd) and each instance's sums.
struct InstanceIndex {
  cv::Mat slot;  // CV_32SC1
  std::vector<Instance> instances;
};

InstanceIndex index_instances(const Sample& s, const std::vector<bool>& is_thing) {
  InstanceIndex out;
  out.slot.create(s.label.size(), CV_32SC1);
  std::unordered_map<int32_t, int32_t> slot_of;
  // Instances are large runs of one value: remembering the last one skips most hash lookups.
  int32_t last_value = -1, last_slot = kNoInstance;
  for (int y = 0; y < s.label.rows; ++y) {
    const uint8_t* label = s.label.ptr<uint8_t>(y);
    const int32_t* value = s.instances.ptr<int32_t>(y);
    int32_t* slot = out.slot.ptr<int32_t>(y);
    for (int x = 0; x < s.label.cols; ++x) {
      if (!is_thing[label[x]]) {
        slot[x] = kNoInstance;  // stuff/void: the value does not matter (e.g. the ego vehicle's)
        continue;
      }
      if (value[x] < kFirstInstance) {
        slot[x] = kCrowd;
        continue;
      }
      if (value[x] != last_value) {
        auto inserted = slot_of.emplace(value[x], static_cast<int32_t>(out.instances.size()));
        if (inserted.second) out.instances.emplace_back();
        last_value = value[x];
        last_slot = inserted.first->second;
      }
      Instance& instance = out.instances[static_cast<size_t>(last_slot)];
      instance.sum_y += y;
      instance.sum_x += x;
      ++instance.area;
      slot[x] = last_slot;
    }
  }
  return out;
}

/// Pass 2: offsets and weights of every pixel (and crowd -> ignore in the label when asked).
void write_pixel_targets(const InstanceIndex& index, uint8_t ignore, bool crowd_as_ignore, Sample& sample,
                         PanopticTargets& targets) {
  for (int y = 0; y < sample.label.rows; ++y) {
    const int32_t* slot = index.slot.ptr<int32_t>(y);
    uint8_t* label = sample.label.ptr<uint8_t>(y);
    float* offset = targets.offset.ptr<float>(y);
    float* semantic_w = targets.semantic_weight.ptr<float>(y);
    float* center_w = targets.center_weight.ptr<float>(y);
    float* offset_w = targets.offset_weight.ptr<float>(y);
    for (int x = 0; x < sample.label.cols; ++x) {
      if (slot[x] >= 0) {
        const Instance& instance = index.instances[static_cast<size_t>(slot[x])];
        offset[2 * x] = static_cast<float>(instance.cy - y);
        offset[2 * x + 1] = static_cast<float>(instance.cx - x);
        semantic_w[x] = instance.semantic_weight;
        center_w[x] = offset_w[x] = 1;
        continue;
      }
      offset[2 * x] = offset[2 * x + 1] = 0;
      semantic_w[x] = 1;  // the loss itself zeroes ignored pixels
      offset_w[x] = 0;
      if (slot[x] == kCrowd && crowd_as_ignore) label[x] = ignore;
      center_w[x] = (slot[x] == kCrowd || label[x] == ignore) ? 0.0f : 1.0f;
    }
  }
}

void check_sample(const Sample& s) {
  if (s.label.empty() || s.label.type() != CV_8UC1) {
    throw DataError("sample '" + s.id + "': panoptic targets need an 8-bit label map (CV_8UC1)");
  }
  if (s.instances.empty()) {
    throw DataError("sample '" + s.id + "': panoptic targets need instance ids, but the sample has none");
  }
  if (s.instances.type() != CV_32SC1 || s.instances.size() != s.label.size()) {
    throw DataError("sample '" + s.id + "': instance ids must be a CV_32SC1 map of the label's size " +
                    std::to_string(s.label.rows) + "x" + std::to_string(s.label.cols) + ", got " +
                    std::to_string(s.instances.rows) + "x" + std::to_string(s.instances.cols));
  }
}

}  // namespace

PanopticTargetGenerator::PanopticTargetGenerator(PanopticTargetOptions options)
    : options_(std::move(options)), is_thing_(256, false) {
  const double sigma = options_.sigma;
  if (!(sigma > 0)) throw ConfigError("panoptic targets: sigma must be > 0, got " + std::to_string(sigma));
  if (options_.ignore_label < 0 || options_.ignore_label > 255) {
    throw ConfigError("panoptic targets: ignore_label " + std::to_string(options_.ignore_label) + " is not in 0..255");
  }
  for (int id : options_.thing_ids) {
    if (id < 0 || id > 255) throw ConfigError("panoptic targets: thing id " + std::to_string(id) + " is not in 0..255");
    // The ignore label is never a thing: void pixels carry no instance.
    if (id != options_.ignore_label) is_thing_[static_cast<size_t>(id)] = true;
  }
  // deeplab2's window: int(6 sigma + 3) wide, peak at 3 sigma + 1, placed round(3 sigma + 1)
  // before the center (Python's round, half to even). For integer sigma this is the
  // Gaussian centred on the center pixel; otherwise its peak sits a fraction of a pixel off.
  const int size = static_cast<int>(6 * sigma + 3);
  const double peak = 3 * sigma + 1;
  window_begin_ = static_cast<int>(std::nearbyint(peak));
  gaussian_.create(size, size, CV_32FC1);
  for (int i = 0; i < size; ++i) {
    for (int j = 0; j < size; ++j) {
      const double d2 = (i - peak) * (i - peak) + (j - peak) * (j - peak);
      gaussian_.at<float>(i, j) = static_cast<float>(std::exp(-d2 / (2 * sigma * sigma)));
    }
  }
}

void PanopticTargetGenerator::draw_center(cv::Mat& heatmap, int cy, int cx) const {
  const int top = cy - window_begin_, left = cx - window_begin_;
  const int y0 = std::max(top, 0), y1 = std::min(top + gaussian_.rows, heatmap.rows);
  const int x0 = std::max(left, 0), x1 = std::min(left + gaussian_.cols, heatmap.cols);
  for (int y = y0; y < y1; ++y) {
    float* out = heatmap.ptr<float>(y);
    const float* g = gaussian_.ptr<float>(y - top);
    for (int x = x0; x < x1; ++x) out[x] = std::max(out[x], g[x - left]);  // overlapping Gaussians: max
  }
}

PanopticTargets PanopticTargetGenerator::operator()(Sample& sample) const {
  check_sample(sample);
  InstanceIndex index = index_instances(sample, is_thing_);
  const cv::Size size = sample.label.size();
  PanopticTargets t;
  t.center = cv::Mat::zeros(size, CV_32FC1);
  t.offset.create(size, CV_32FC2);
  t.semantic_weight.create(size, CV_32FC1);
  t.center_weight.create(size, CV_32FC1);
  t.offset_weight.create(size, CV_32FC1);
  for (Instance& instance : index.instances) {
    // Rounded half to even, as tf.round: a mean of 2.5 gives 2, 3.5 gives 4.
    instance.cy = static_cast<int>(std::nearbyint(instance.sum_y / static_cast<double>(instance.area)));
    instance.cx = static_cast<int>(std::nearbyint(instance.sum_x / static_cast<double>(instance.area)));
    if (instance.area < options_.small_instance_area) {
      instance.semantic_weight = static_cast<float>(options_.small_instance_weight);
    }
    draw_center(t.center, instance.cy, instance.cx);
  }
  write_pixel_targets(index, static_cast<uint8_t>(options_.ignore_label), options_.crowd_as_ignore, sample, t);
  return t;
}

PanopticTargets make_panoptic_targets(Sample& sample, const PanopticTargetOptions& options) {
  return PanopticTargetGenerator(options)(sample);
}

PanopticTargetOptions panoptic_target_options(const DataConfig& config, const DatasetDescriptor& descriptor) {
  PanopticTargetOptions o;
  o.thing_ids = descriptor.things;
  o.ignore_label = config.ignore_label;
  o.sigma = config.panoptic.sigma;
  o.small_instance_area = config.panoptic.small_instance_area;
  o.small_instance_weight = config.panoptic.small_instance_weight;
  o.crowd_as_ignore = config.panoptic.crowd_as_ignore;
  return o;
}

}  // namespace deeplab::data
