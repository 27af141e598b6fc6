#include "deeplab/train/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <iomanip>
#include <regex>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/train/optimizer_archive.h"

namespace deeplab::train {
namespace fs = std::filesystem;
namespace {

const std::regex kCheckpointName(R"(iter_(\d+)\.ckpt)");
constexpr int64_t kFormat = 2;

// Stop-9 files kept the trainer's, the scaler's and the eval hook's numbers
// in one `state.*` struct and one process's RNG as `rng.cpu`.
const std::map<std::string, std::string> kStop9Keys = {
    {"state.iteration", "trainer.iteration"},         {"state.epoch", "trainer.epoch"},
    {"state.batch_in_epoch", "trainer.batch_in_epoch"}, {"state.skipped_steps", "trainer.skipped_steps"},
    {"state.loss_scale", "scaler.scale"},             {"state.scaler_good_steps", "scaler.good_steps"},
    {"state.best_miou", "hooks.eval.best_miou"},      {"state.best_iteration", "hooks.eval.best_iteration"},
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
    const auto old = current ? kStop9Keys.end() : kStop9Keys.find(key);
    file_entry(state, old == kStop9Keys.end() ? key : old->second, value);
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

RunState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  if (!fs::exists(path)) throw IoError("checkpoint '" + path + "' does not exist");
  try {
    // Tensors land on the model's device, whichever one the run that saved
    // them used: a GPU run resumes on a CPU machine and the other way round.
    const auto parameters = model.parameters();
    const c10::Device device = parameters.empty() ? c10::Device(c10::kCPU) : parameters.front().device();
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    torch::NoGradGuard no_grad;
    for (auto& p : model.named_parameters()) p.value().copy_(read_tensor(archive, "model." + p.key()));
    for (auto& b : model.named_buffers()) b.value().copy_(read_tensor(archive, "model." + b.key(), true));
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    load_optimizer_state(optimizer, optimizer_archive);
    return read_run_state(archive);
  } catch (const c10::Error& e) {
    throw IoError("checkpoint '" + path + "' cannot be loaded into this model/optimizer: " +
                  e.what_without_backtrace());
  }
}

std::string latest_checkpoint(const std::string& dir) {
  if (!fs::is_directory(dir)) return "";
  std::string best;
  int64_t best_iter = -1;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    if (!std::regex_match(name, match, kCheckpointName)) continue;
    const int64_t iter = std::stoll(match[1]);
    if (iter > best_iter) {
      best_iter = iter;
      best = entry.path().string();
    }
  }
  return best;
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
