#include "deeplab/train/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/models/summary.h"
#include "deeplab/train/optimizer_archive.h"

namespace deeplab::train {
namespace fs = std::filesystem;
namespace {

const std::regex kCheckpointName(R"(iter_(\d+)\.ckpt)");
constexpr int64_t kFormat = 2;

// Files of format 1 (no `format` entry) kept the trainer's, the scaler's and the eval hook's numbers
// in one `state.*` struct and one process's RNG as `rng.cpu`.
const std::map<std::string, std::string> kFormat1Keys = {{"state.iteration", "trainer.iteration"},
                                                         {"state.epoch", "trainer.epoch"},
                                                         {"state.batch_in_epoch", "trainer.batch_in_epoch"},
                                                         {"state.skipped_steps", "trainer.skipped_steps"},
                                                         {"state.loss_scale", "scaler.scale"},
                                                         {"state.scaler_good_steps", "scaler.good_steps"},
                                                         {"state.best_miou", "hooks.eval.best_miou"},
                                                         {"state.best_iteration", "hooks.eval.best_iteration"},
                                                         {"rng.cpu", "rank0.rng.cpu"}};

// A fresh tensor per read: InputArchive::read set_()s into a defined tensor,
// which fails when that tensor's storage came from the archive.
torch::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key, bool is_buffer = false) {
  torch::Tensor t;
  archive.read(key, t, is_buffer);
  return t;
}

void write_map(torch::serialize::OutputArchive& archive, const std::string& prefix, const TensorMap& map) {
  for (const auto& [key, value] : map) archive.write(prefix + key, value);
}

// Files one entry `key` (already in this format's names) into its section.
void file_entry(RunState& state, const std::string& key, const torch::Tensor& value) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) return;
  const std::string section = key.substr(0, dot), rest = key.substr(dot + 1);
  if (section == "trainer") {
    state.trainer[rest] = value;
  } else if (section == "scaler") {
    state.scaler[rest] = value;
  } else if (section == "hooks") {
    const auto hook_dot = rest.find('.');
    if (hook_dot != std::string::npos) state.hooks[rest.substr(0, hook_dot)][rest.substr(hook_dot + 1)] = value;
  } else if (section.rfind("rank", 0) == 0 && section.size() > 4) {
    state.ranks[std::stoi(section.substr(4))][rest] = value;
  }
}

RunState read_run_state(torch::serialize::InputArchive& archive) {
  torch::Tensor format;
  const bool current = archive.try_read("format", format);
  RunState state;
  for (const std::string& key : archive.keys()) {
    if (key == "optimizer" || key == "format" || key.rfind("model.", 0) == 0) continue;
    torch::Tensor value;
    if (!archive.try_read(key, value)) continue;  // a nested archive of a later format
    const auto old = current ? kFormat1Keys.end() : kFormat1Keys.find(key);
    file_entry(state, old == kFormat1Keys.end() ? key : old->second, value);
  }
  return state;
}

}  // namespace

torch::Tensor state_scalar(int64_t value) { return torch::tensor(value, torch::kLong); }
torch::Tensor state_scalar(double value) { return torch::tensor(value, torch::kDouble); }

int64_t state_int(const TensorMap& map, const std::string& key, int64_t fallback) {
  const auto it = map.find(key);
  return it == map.end() ? fallback : it->second.item<int64_t>();
}

double state_double(const TensorMap& map, const std::string& key, double fallback) {
  const auto it = map.find(key);
  return it == map.end() ? fallback : it->second.item<double>();
}

std::string save_checkpoint(const std::string& dir, int64_t iteration, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const RunState& state) {
  torch::serialize::OutputArchive archive;
  archive.write("format", state_scalar(kFormat));
  for (const auto& p : model.named_parameters()) archive.write("model." + p.key(), p.value(), false);
  for (const auto& b : model.named_buffers()) archive.write("model." + b.key(), b.value(), true);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  write_map(archive, "trainer.", state.trainer);
  write_map(archive, "scaler.", state.scaler);
  for (const auto& [name, map] : state.hooks) write_map(archive, "hooks." + name + ".", map);
  for (const auto& [rank, map] : state.ranks) write_map(archive, "rank" + std::to_string(rank) + ".", map);

  std::ostringstream bytes;
  archive.save_to(bytes);
  fs::create_directories(dir);
  std::ostringstream name;
  name << "iter_" << std::setw(7) << std::setfill('0') << iteration << ".ckpt";
  const std::string path = (fs::path(dir) / name.str()).string();
  core::write_file_atomic(path, bytes.str());
  return path;
}

namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// "a, b, c and 4 more"
std::string some_of(const std::vector<std::string>& items, size_t shown = 3) {
  std::string out;
  for (size_t i = 0; i < std::min(shown, items.size()); ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > shown) out += " and " + std::to_string(items.size() - shown) + " more";
  return out;
}

// The whole file read, or UnreadableCheckpoint: nothing of it is applied yet.
torch::serialize::InputArchive open_checkpoint(const std::string& path, c10::Device device) {
  if (!fs::exists(path)) throw IoError("checkpoint '" + path + "' does not exist");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    why = why.substr(0, why.find('\n'));
    throw UnreadableCheckpoint("checkpoint '" + path + "' cannot be read (cut short or damaged?): " + why);
  }
  const auto keys = archive.keys();
  const bool has_model =
      std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.rfind("model.", 0) == 0; });
  if (!has_model || std::find(keys.begin(), keys.end(), "optimizer") == keys.end()) {
    throw UnreadableCheckpoint("'" + path +
                               "' is not a training checkpoint (no model and optimizer entries); "
                               "weights files (.pth, .safetensors) start a run through model.init, not --resume");
  }
  return archive;
}

// Every parameter and buffer of `model` is in the archive with its shape, and
// the archive holds no model tensor the model lacks; else a ConfigError that
// lists the differences, before anything is copied.
void check_model_fits(torch::serialize::InputArchive& archive, torch::nn::Module& model, const std::string& path) {
  std::vector<std::string> missing, unexpected, reshaped;
  std::set<std::string> expected;
  auto check = [&](const std::string& name, const torch::Tensor& ours, bool is_buffer) {
    expected.insert("model." + name);
    torch::Tensor saved;
    if (!archive.try_read("model." + name, saved, is_buffer)) {
      missing.push_back("model." + name);
    } else if (saved.sizes() != ours.sizes()) {
      reshaped.push_back("model." + name + " " + shape_text(saved) + " saved, " + shape_text(ours) + " in the model");
    }
  };
  for (const auto& p : model.named_parameters()) check(p.key(), p.value(), false);
  for (const auto& b : model.named_buffers()) check(b.key(), b.value(), true);
  for (const std::string& key : archive.keys()) {
    if (key.rfind("model.", 0) == 0 && !expected.count(key)) unexpected.push_back(key);
  }
  if (missing.empty() && unexpected.empty() && reshaped.empty()) return;
  std::string what = "checkpoint '" + path + "' was saved by another model than this config builds:";
  if (!missing.empty())
    what += " " + std::to_string(missing.size()) + " tensor(s) of the model are not in it (" + some_of(missing) + ");";
  if (!unexpected.empty())
    what +=
        " " + std::to_string(unexpected.size()) + " of its tensors are not in the model (" + some_of(unexpected) + ");";
  if (!reshaped.empty())
    what += " " + std::to_string(reshaped.size()) + " differ in shape (" + some_of(reshaped, 2) + ");";
  throw ConfigError(what + " resume with the model section the run was trained with");
}

}  // namespace

RunState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  // Tensors land on the model's device, whichever one the run that saved
  // them used: a GPU run resumes on a CPU machine and the other way round.
  torch::serialize::InputArchive archive = open_checkpoint(path, models::module_device(model));
  check_model_fits(archive, model, path);
  try {
    torch::NoGradGuard no_grad;
    for (auto& p : model.named_parameters()) p.value().copy_(read_tensor(archive, "model." + p.key()));
    for (auto& b : model.named_buffers()) b.value().copy_(read_tensor(archive, "model." + b.key(), true));
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    load_optimizer_state(optimizer, optimizer_archive);
    return read_run_state(archive);
  } catch (const c10::Error& e) {
    throw IoError("checkpoint '" + path +
                  "' cannot be loaded into this model/optimizer: " + e.what_without_backtrace());
  }
}

std::vector<std::string> checkpoints_newest_first(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::smatch match;
      const std::string name = entry.path().filename().string();
      if (std::regex_match(name, match, kCheckpointName))
        found.emplace_back(std::stoll(match[1]), entry.path().string());
    }
  }
  std::sort(found.rbegin(), found.rend());
  std::vector<std::string> paths;
  for (auto& [iteration, path] : found) paths.push_back(std::move(path));
  return paths;
}

std::string latest_checkpoint(const std::string& dir) {
  const auto paths = checkpoints_newest_first(dir);
  return paths.empty() ? "" : paths.front();
}

void prune_checkpoints(const std::string& dir, int keep) {
  std::vector<std::pair<int64_t, fs::path>> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, match, kCheckpointName)) found.emplace_back(std::stoll(match[1]), entry.path());
  }
  std::sort(found.rbegin(), found.rend());
  for (size_t i = static_cast<size_t>(keep); i < found.size(); ++i) fs::remove(found[i].second);
}

}  // namespace deeplab::train
