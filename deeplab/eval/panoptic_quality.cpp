#include "deeplab/eval/panoptic_quality.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <unordered_map>

#include "deeplab/core/error.h"

namespace deeplab::eval {
namespace {

constexpr uint32_t kVoid = 0;

using SegmentIndex = std::unordered_map<uint32_t, const postprocess::PanopticSegment*>;

// (gt, pred) -> pixel count, sorted like panopticapi's np.unique over gt * 2^24 + pred.
using PairCounts = std::vector<std::pair<uint64_t, int64_t>>;

uint64_t pair_key(uint32_t gt, uint32_t pred) { return (static_cast<uint64_t>(gt) << 32) | pred; }
uint32_t key_gt(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
uint32_t key_pred(uint64_t key) { return static_cast<uint32_t>(key & 0xffffffffu); }

PairCounts count_pairs(const uint32_t* gt, const uint32_t* pred, size_t n) {
  std::unordered_map<uint64_t, int64_t> counts;
  // Neighbouring pixels mostly share their pair: one hash update per run.
  size_t i = 0;
  while (i < n) {
    const uint32_t g = gt[i];
    const uint32_t p = pred[i];
    size_t j = i + 1;
    while (j < n && gt[j] == g && pred[j] == p) ++j;
    counts[pair_key(g, p)] += static_cast<int64_t>(j - i);
    i = j;
  }
  PairCounts sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

SegmentIndex index_segments(const std::vector<postprocess::PanopticSegment>& segments, const std::string& image,
                            const char* which) {
  SegmentIndex index;
  for (const auto& s : segments) {
    if (!index.emplace(s.id, &s).second) {
      throw DataError("image " + image + ": " + which + " segment id " + std::to_string(s.id) +
                      " appears twice in segments_info");
    }
  }
  return index;
}

int64_t count_of(const PairCounts& pairs, uint32_t gt, uint32_t pred) {
  const uint64_t key = pair_key(gt, pred);
  auto it = std::lower_bound(pairs.begin(), pairs.end(), std::make_pair(key, int64_t{0}),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
  return it != pairs.end() && it->first == key ? it->second : 0;
}

// The checks panopticapi makes on a prediction, in its order, plus ours on the
// ground truth; returns each predicted segment's area counted from the pixels.
std::map<uint32_t, int64_t> checked_pred_areas(const PairCounts& pairs, const SegmentIndex& gt_index,
                                               const SegmentIndex& pred_index,
                                               const std::vector<postprocess::PanopticSegment>& pred_segments,
                                               const std::map<int, size_t>& categories, const std::string& image) {
  std::map<uint32_t, int64_t> pred_area;
  std::set<uint32_t> gt_in_png;
  for (const auto& [key, count] : pairs) {
    pred_area[key_pred(key)] += count;
    gt_in_png.insert(key_gt(key));
  }
  std::set<uint32_t> unseen;
  for (const auto& s : pred_segments) unseen.insert(s.id);
  for (const auto& [id, area] : pred_area) {
    auto it = pred_index.find(id);
    if (it == pred_index.end()) {
      if (id == kVoid) continue;
      throw DataError("image " + image + ": predicted segment id " + std::to_string(id) +
                      " is in the PNG but not in the JSON");
    }
    unseen.erase(id);
    if (!categories.count(it->second->category_id)) {
      throw DataError("image " + image + ": predicted segment id " + std::to_string(id) + " has unknown category_id " +
                      std::to_string(it->second->category_id));
    }
  }
  if (!unseen.empty()) {
    std::string list;
    for (uint32_t id : unseen) list += (list.empty() ? "" : ", ") + std::to_string(id);
    throw DataError("image " + image + ": predicted segment ids [" + list + "] are in the JSON but not in the PNG");
  }
  for (uint32_t id : gt_in_png) {
    if (id != kVoid && !gt_index.count(id)) {
      throw DataError("image " + image + ": ground-truth segment id " + std::to_string(id) +
                      " is in the PNG but not in the JSON");
    }
  }
  return pred_area;
}

}  // namespace

PanopticQuality::PanopticQuality(std::vector<postprocess::PanopticCategory> categories)
    : categories_(std::move(categories)), counts_(categories_.size()) {
  for (size_t i = 0; i < categories_.size(); ++i) {
    if (!index_.emplace(categories_[i].id, i).second) {
      throw DataError("panoptic categories: category id " + std::to_string(categories_[i].id) + " appears twice");
    }
  }
}

PqCounts& PanopticQuality::counts_of(int category_id) { return counts_[index_.at(category_id)]; }

void PanopticQuality::add(const uint32_t* gt_ids, const std::vector<postprocess::PanopticSegment>& gt_segments,
                          const uint32_t* pred_ids, const std::vector<postprocess::PanopticSegment>& pred_segments,
                          size_t num_pixels, const std::string& image) {
  const SegmentIndex gt_index = index_segments(gt_segments, image, "ground-truth");
  const SegmentIndex pred_index = index_segments(pred_segments, image, "predicted");
  for (const auto& s : gt_segments) {
    if (!index_.count(s.category_id)) {
      throw DataError("image " + image + ": ground-truth segment id " + std::to_string(s.id) +
                      " has unknown category_id " + std::to_string(s.category_id));
    }
  }
  const PairCounts pairs = count_pairs(gt_ids, pred_ids, num_pixels);
  std::map<uint32_t, int64_t> pred_area = checked_pred_areas(pairs, gt_index, pred_index, pred_segments, index_, image);

  // Matches: same category, not crowd, IoU > 0.5 with VOID left out of the union.
  std::set<uint32_t> gt_matched, pred_matched;
  for (const auto& [key, intersection] : pairs) {
    const auto g = gt_index.find(key_gt(key));
    const auto p = pred_index.find(key_pred(key));
    if (g == gt_index.end() || p == pred_index.end()) continue;
    if (g->second->iscrowd || g->second->category_id != p->second->category_id) continue;
    const int64_t union_area = pred_area[p->first] + g->second->area - intersection - count_of(pairs, kVoid, p->first);
    const double iou = static_cast<double>(intersection) / static_cast<double>(union_area);
    if (iou > 0.5) {
      PqCounts& c = counts_of(g->second->category_id);
      ++c.tp;
      c.iou += iou;
      gt_matched.insert(g->first);
      pred_matched.insert(p->first);
    }
  }

  // Unmatched ground truth: crowd regions are remembered (the last one of a
  // category wins, as in panopticapi), the others are false negatives.
  std::map<int, uint32_t> crowd_of_category;
  for (const auto& s : gt_segments) {
    if (gt_matched.count(s.id)) continue;
    if (s.iscrowd) {
      crowd_of_category[s.category_id] = s.id;
      continue;
    }
    ++counts_of(s.category_id).fn;
  }
  // Unmatched predictions mostly on VOID or on their category's crowd region are ignored.
  for (const auto& s : pred_segments) {
    if (pred_matched.count(s.id)) continue;
    int64_t ignored = count_of(pairs, kVoid, s.id);
    auto crowd = crowd_of_category.find(s.category_id);
    if (crowd != crowd_of_category.end()) ignored += count_of(pairs, crowd->second, s.id);
    if (static_cast<double>(ignored) / static_cast<double>(pred_area[s.id]) > 0.5) continue;
    ++counts_of(s.category_id).fp;
  }
}

void PanopticQuality::add_counts(const std::vector<PqCounts>& counts) {
  if (counts.size() != counts_.size()) {
    throw DataError("cannot add PQ statistics of " + std::to_string(counts.size()) + " categories to " +
                    std::to_string(counts_.size()));
  }
  for (size_t i = 0; i < counts.size(); ++i) {
    counts_[i].iou += counts[i].iou;
    counts_[i].tp += counts[i].tp;
    counts_[i].fp += counts[i].fp;
    counts_[i].fn += counts[i].fn;
  }
}

PanopticQuality& PanopticQuality::merge(const PanopticQuality& other) {
  for (size_t i = 0; i < other.categories_.size(); ++i) {
    auto it = index_.find(other.categories_[i].id);
    if (it == index_.end()) {
      throw DataError("cannot merge PQ statistics: category id " + std::to_string(other.categories_[i].id) +
                      " is unknown here");
    }
    PqCounts& c = counts_[it->second];
    c.iou += other.counts_[i].iou;
    c.tp += other.counts_[i].tp;
    c.fp += other.counts_[i].fp;
    c.fn += other.counts_[i].fn;
  }
  return *this;
}

PanopticResult PanopticQuality::result() const {
  PanopticResult r;
  for (size_t i = 0; i < categories_.size(); ++i) {
    PqClassResult c;
    c.category = categories_[i];
    c.counts = counts_[i];
    const PqCounts& k = counts_[i];
    if (k.tp + k.fp + k.fn > 0) {
      const double denominator =
          static_cast<double>(k.tp) + 0.5 * static_cast<double>(k.fp) + 0.5 * static_cast<double>(k.fn);
      c.counted = true;
      c.pq = k.iou / denominator;
      c.sq = k.tp != 0 ? k.iou / static_cast<double>(k.tp) : 0.0;
      c.rq = static_cast<double>(k.tp) / denominator;
      for (PqAverage* avg : {&r.all, c.category.isthing ? &r.things : &r.stuff}) {
        avg->pq += c.pq;
        avg->sq += c.sq;
        avg->rq += c.rq;
        ++avg->n;
      }
    }
    r.per_class.push_back(c);
  }
  // panopticapi divides by n unguarded; with no category counted we report 0.
  for (PqAverage* avg : {&r.all, &r.things, &r.stuff}) {
    if (avg->n == 0) continue;
    avg->pq /= avg->n;
    avg->sq /= avg->n;
    avg->rq /= avg->n;
  }
  return r;
}

nlohmann::json panoptic_result_json(const PanopticResult& result) {
  nlohmann::json out;
  const auto average = [](const PqAverage& a) {
    return nlohmann::json{{"pq", a.pq}, {"sq", a.sq}, {"rq", a.rq}, {"n", a.n}};
  };
  out["All"] = average(result.all);
  out["Things"] = average(result.things);
  out["Stuff"] = average(result.stuff);
  nlohmann::json per_class = nlohmann::json::object();
  for (const auto& c : result.per_class) {
    per_class[std::to_string(c.category.id)] = {{"name", c.category.name},
                                                {"isthing", c.category.isthing},
                                                {"pq", c.pq},
                                                {"sq", c.sq},
                                                {"rq", c.rq},
                                                {"tp", c.counts.tp},
                                                {"fp", c.counts.fp},
                                                {"fn", c.counts.fn},
                                                {"counted", c.counted},
                                                {"iou_sum", c.counts.iou}};
  }
  out["per_class"] = per_class;
  return out;
}

std::string format_panoptic_table(const PanopticResult& result, bool per_class) {
  std::ostringstream out;
  char line[160];
  std::snprintf(line, sizeof line, "%-10s| %5s  %5s  %5s %5s\n", "", "PQ", "SQ", "RQ", "N");
  out << line << std::string(38, '-') << "\n";
  const std::pair<const char*, const PqAverage*> rows[] = {
      {"All", &result.all}, {"Things", &result.things}, {"Stuff", &result.stuff}};
  for (const auto& [name, a] : rows) {
    std::snprintf(line, sizeof line, "%-10s| %5.1f  %5.1f  %5.1f %5d\n", name, 100 * a->pq, 100 * a->sq, 100 * a->rq,
                  a->n);
    out << line;
  }
  if (!per_class) return out.str();
  std::snprintf(line, sizeof line, "\n%-24s %6s %6s %6s %6s %6s %6s\n", "class", "PQ", "SQ", "RQ", "TP", "FP", "FN");
  out << line;
  for (const auto& c : result.per_class) {
    if (!c.counted) continue;
    std::snprintf(line, sizeof line, "%-24s %6.1f %6.1f %6.1f %6lld %6lld %6lld\n", c.category.name.c_str(), 100 * c.pq,
                  100 * c.sq, 100 * c.rq, static_cast<long long>(c.counts.tp), static_cast<long long>(c.counts.fp),
                  static_cast<long long>(c.counts.fn));
    out << line;
  }
  return out.str();
}

}  // namespace deeplab::eval
