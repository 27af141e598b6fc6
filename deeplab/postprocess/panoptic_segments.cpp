#include "deeplab/postprocess/panoptic_segments.h"

#include <ATen/ATen.h>

#include <map>
#include <utility>

#include "deeplab/core/error.h"

namespace deeplab::postprocess {

namespace {

// Assigns dense segment ids 1, 2, ... to keys in order of first appearance
// and counts their pixels; consecutive equal keys skip the map lookup.
template <class Key>
class SegmentIds {
 public:
  uint32_t id_of(const Key& key) {
    if (has_last_ && key == last_key_) {
      ++segments_[last_id_ - 1].area;
      return last_id_;
    }
    auto [it, added] = ids_.emplace(key, static_cast<uint32_t>(ids_.size() + 1));
    if (added) segments_.push_back({it->second, 0, 0, false});
    ++segments_[it->second - 1].area;
    last_key_ = key;
    last_id_ = it->second;
    has_last_ = true;
    return last_id_;
  }
  std::vector<PanopticSegment>& segments() { return segments_; }

 private:
  std::map<Key, uint32_t> ids_;
  std::vector<PanopticSegment> segments_;
  Key last_key_{};
  uint32_t last_id_ = 0;
  bool has_last_ = false;
};

void check_map(const at::Tensor& t, const char* what, at::ScalarType type) {
  if (t.dim() != 2 || t.scalar_type() != type) {
    throw Error(std::string("panoptic evaluation: ") + what + " must be a 2-D " + c10::toString(type) + " tensor");
  }
}

}  // namespace

PanopticSegmentation ground_truth_segmentation(const at::Tensor& label, const at::Tensor& instances,
                                               const std::vector<int>& thing_ids, int ignore_label) {
  check_map(label, "the label", at::kLong);
  check_map(instances, "the instance map", at::kInt);
  if (label.sizes() != instances.sizes()) throw Error("panoptic evaluation: label and instance map sizes differ");
  std::vector<bool> is_thing(256, false);
  for (const int t : thing_ids) {
    if (t >= 0 && t < 256) is_thing[static_cast<size_t>(t)] = true;
  }
  const at::Tensor l = label.contiguous(), inst = instances.contiguous();
  const int64_t* lp = l.data_ptr<int64_t>();
  const int32_t* ip = inst.data_ptr<int32_t>();
  PanopticSegmentation out;
  out.ids.resize(static_cast<size_t>(l.numel()));
  // Key: (class, instance value; -1 for the class's stuff or crowd segment).
  SegmentIds<std::pair<int64_t, int64_t>> ids;
  std::map<uint32_t, bool> crowd;
  for (size_t i = 0; i < out.ids.size(); ++i) {
    const int64_t c = lp[i];
    if (c == ignore_label || c < 0 || c > 255) continue;  // VOID (0)
    const bool thing = is_thing[static_cast<size_t>(c)];
    const bool instance = thing && ip[i] >= 1000;
    out.ids[i] = ids.id_of({c, instance ? ip[i] : -1});
    if (thing && !instance) crowd[out.ids[i]] = true;
  }
  out.segments = std::move(ids.segments());
  for (auto& s : out.segments) {
    s.iscrowd = crowd.count(s.id) > 0;
  }
  for (size_t i = 0; i < out.ids.size(); ++i) {
    if (out.ids[i]) out.segments[out.ids[i] - 1].category_id = static_cast<int>(lp[i]);
  }
  return out;
}

PanopticSegmentation predicted_segmentation(const at::Tensor& panoptic, int label_divisor) {
  check_map(panoptic, "the panoptic map", at::kInt);
  const at::Tensor p = panoptic.contiguous();
  const int32_t* pp = p.data_ptr<int32_t>();
  PanopticSegmentation out;
  out.ids.resize(static_cast<size_t>(p.numel()));
  SegmentIds<int32_t> ids;
  std::vector<int32_t> value_of;  // by segment id - 1
  for (size_t i = 0; i < out.ids.size(); ++i) {
    if (pp[i] < 0) continue;
    out.ids[i] = ids.id_of(pp[i]);
    if (out.ids[i] > value_of.size()) value_of.push_back(pp[i]);
  }
  out.segments = std::move(ids.segments());
  for (auto& s : out.segments) s.category_id = value_of[s.id - 1] / label_divisor;
  return out;
}

PanopticEvalOptions panoptic_eval_options(const data::DataConfig& config, const data::DatasetDescriptor& descriptor) {
  PanopticEvalOptions o;
  const data::PanopticDataConfig& p = config.panoptic;
  o.postprocess.thing_ids = descriptor.things;
  o.postprocess.label_divisor = p.label_divisor;
  o.postprocess.center_threshold = p.center_threshold;
  o.postprocess.nms_kernel = p.nms_kernel;
  o.postprocess.top_k = p.top_k;
  o.postprocess.stuff_area = p.stuff_area;
  o.ignore_label = config.ignore_label;
  o.categories = panoptic_categories(descriptor);
  return o;
}

PanopticEvalOptions panoptic_eval_options(const data::DataConfig& config, const data::DatasetDescriptor& descriptor,
                                          bool mask_wise) {
  PanopticEvalOptions o = panoptic_eval_options(config, descriptor);
  if (!mask_wise) return o;
  const data::MaskPanopticDataConfig& m = config.panoptic.mask;
  MaskPanopticOptions mask;
  mask.thing_ids = descriptor.things;
  mask.label_divisor = config.panoptic.label_divisor;
  mask.mode = m.mode;
  mask.class_threshold = m.class_threshold;
  mask.pixel_confidence_threshold = m.pixel_confidence_threshold;
  mask.class_threshold_thing = m.class_threshold_thing;
  mask.class_threshold_stuff = m.class_threshold_stuff;
  mask.overlap_threshold = m.overlap_threshold;
  mask.thing_area_limit = m.thing_area_limit;
  mask.stuff_area_limit = m.stuff_area_limit;
  mask.reorder_class_weight = m.reorder_class_weight;
  mask.reorder_mask_weight = m.reorder_mask_weight;
  o.postprocess.mask_wise = mask;
  return o;
}

std::vector<PanopticCategory> panoptic_categories(const data::DatasetDescriptor& descriptor) {
  std::vector<PanopticCategory> out;
  for (int id = 0; id < descriptor.num_classes(); ++id) {
    bool thing = false;
    for (const int t : descriptor.things) thing = thing || t == id;
    out.push_back({id, descriptor.classes[static_cast<size_t>(id)], thing});
  }
  return out;
}

}  // namespace deeplab::postprocess
