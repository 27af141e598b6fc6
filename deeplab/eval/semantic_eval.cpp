#include "deeplab/eval/semantic_eval.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <map>
#include <thread>

#include "deeplab/core/error.h"
#include "deeplab/data/png_io.h"

namespace deeplab::eval {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> find_pngs(const std::string& dir, const char* role) {
  if (!fs::is_directory(dir)) throw IoError(std::string(role) + " folder '" + dir + "' does not exist");
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".png") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// key -> file; a key found twice is an error naming both files.
std::map<std::string, std::string> index_by(const std::vector<std::string>& files,
                                            std::string (*key_of)(const std::string&)) {
  std::map<std::string, std::string> index;
  for (const auto& f : files) {
    const std::string key = key_of(f);
    if (key.empty()) continue;
    auto [it, fresh] = index.emplace(key, f);
    if (!fresh) throw DataError("'" + it->second + "' and '" + f + "' both match '" + key + "'");
  }
  return index;
}

std::string stem_key(const std::string& path) { return fs::path(path).stem().string(); }

std::string cityscapes_gt_key(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  const std::string suffix = "_gtFine_labelIds.png";
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return "";
  return name.substr(0, name.size() - suffix.size());
}

// `<city>_<seq>_<frame>` of any file name starting with it.
std::string cityscapes_prefix(const std::string& path) {
  const std::string name = fs::path(path).stem().string();
  int underscores = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '_' && ++underscores == 3) return name.substr(0, i);
  }
  return underscores == 2 ? name : "";
}

std::vector<uint8_t> read_labels(const std::string& path, int* width, int* height) {
  const data::PngImage png = data::read_png(path);
  *width = png.width;
  *height = png.height;
  return data::png_to_labels8(png, path);
}

void check_same_size(const FilePair& pair, int gw, int gh, int pw, int ph) {
  if (gw == pw && gh == ph) return;
  throw DataError("prediction '" + pair.pred + "' is " + std::to_string(pw) + "x" + std::to_string(ph) +
                  " but ground truth '" + pair.gt + "' is " + std::to_string(gw) + "x" + std::to_string(gh));
}

// Runs `work(accumulator, pair)` over contiguous shares of `pairs` on `threads`
// threads and merges the accumulators in share order (deterministic sums).
template <class Acc, class Make, class Work>
Acc run_shared(const std::vector<FilePair>& pairs, int threads, Make make, Work work) {
  const size_t workers = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(threads, 1)), pairs.size()));
  const size_t share = (pairs.size() + workers - 1) / workers;
  std::vector<Acc> results(workers, make());
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      try {
        for (size_t i = w * share; i < std::min(pairs.size(), (w + 1) * share); ++i) work(results[w], pairs[i]);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  for (size_t w = 1; w < workers; ++w) results[0].merge(results[w]);
  return results[0];
}

}  // namespace

std::vector<FilePair> match_by_stem(const std::string& gt_dir, const std::string& pred_dir) {
  const auto gt = index_by(find_pngs(gt_dir, "ground-truth"), stem_key);
  const auto pred = index_by(find_pngs(pred_dir, "prediction"), stem_key);
  std::vector<FilePair> pairs;
  for (const auto& [key, file] : gt) {
    auto it = pred.find(key);
    if (it == pred.end()) throw DataError("no prediction for ground truth '" + file + "' in '" + pred_dir + "'");
    pairs.push_back({file, it->second});
  }
  for (const auto& [key, file] : pred) {
    if (!gt.count(key)) throw DataError("no ground truth for prediction '" + file + "' in '" + gt_dir + "'");
  }
  if (pairs.empty()) throw DataError("no PNG files in '" + gt_dir + "'");
  return pairs;
}

std::vector<FilePair> match_cityscapes(const std::string& gt_dir, const std::string& pred_dir) {
  const auto gt = index_by(find_pngs(gt_dir, "ground-truth"), cityscapes_gt_key);
  const auto pred = index_by(find_pngs(pred_dir, "prediction"), cityscapes_prefix);
  if (gt.empty()) throw DataError("no *_gtFine_labelIds.png files under '" + gt_dir + "'");
  std::vector<FilePair> pairs;
  for (const auto& [key, file] : gt) {
    auto it = pred.find(key);
    if (it == pred.end())
      throw DataError("no prediction '" + key + "*.png' under '" + pred_dir + "' for '" + file + "'");
    pairs.push_back({file, it->second});
  }
  return pairs;
}

ConfusionMatrix evaluate_semantic_files(const std::vector<FilePair>& pairs, int num_classes, int ignore_index,
                                        int threads) {
  return run_shared<ConfusionMatrix>(
      pairs, threads, [&] { return ConfusionMatrix(num_classes); },
      [&](ConfusionMatrix& matrix, const FilePair& pair) {
        int gw = 0, gh = 0, pw = 0, ph = 0;
        const std::vector<uint8_t> gt = read_labels(pair.gt, &gw, &gh);
        const std::vector<uint8_t> pred = read_labels(pair.pred, &pw, &ph);
        check_same_size(pair, gw, gh, pw, ph);
        matrix.add(gt.data(), pred.data(), gt.size(), ignore_index,
                   "prediction " + pair.pred + " against ground truth " + pair.gt);
      });
}

CityscapesEvaluator evaluate_cityscapes_files(const std::vector<FilePair>& pairs, int threads) {
  return run_shared<CityscapesEvaluator>(
      pairs, threads, [] { return CityscapesEvaluator(); },
      [&](CityscapesEvaluator& evaluator, const FilePair& pair) {
        int gw = 0, gh = 0, pw = 0, ph = 0;
        const std::vector<uint8_t> gt = read_labels(pair.gt, &gw, &gh);
        const std::vector<uint8_t> pred = read_labels(pair.pred, &pw, &ph);
        check_same_size(pair, gw, gh, pw, ph);
        const std::string instance_path =
            pair.gt.substr(0, pair.gt.size() - std::string("labelIds.png").size()) + "instanceIds.png";
        const data::PngImage instance_png = data::read_png(instance_path);
        if (instance_png.width != gw || instance_png.height != gh) {
          throw DataError("'" + instance_path + "' is not the size of '" + pair.gt + "'");
        }
        const std::vector<uint32_t> instances = data::png_to_ids(instance_png, instance_path);
        evaluator.add(gt.data(), pred.data(), instances.data(), gt.size(),
                      "prediction " + pair.pred + " against ground truth " + pair.gt);
      });
}

}  // namespace deeplab::eval
