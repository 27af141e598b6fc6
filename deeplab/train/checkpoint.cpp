#include "deeplab/train/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <iomanip>
#include <regex>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::train {
namespace fs = std::filesystem;
namespace {

const std::regex kCheckpointName(R"(iter_(\d+)\.ckpt)");

torch::Tensor scalar(int64_t v) { return torch::tensor(v, torch::kLong); }
torch::Tensor scalar(double v) { return torch::tensor(v, torch::kDouble); }

void write_state(torch::serialize::OutputArchive& archive, const TrainState& s) {
  archive.write("state.iteration", scalar(s.iteration));
  archive.write("state.epoch", scalar(s.epoch));
  archive.write("state.batch_in_epoch", scalar(s.batch_in_epoch));
  archive.write("state.best_miou", scalar(s.best_miou));
  archive.write("state.best_iteration", scalar(s.best_iteration));
  archive.write("state.loss_scale", scalar(s.loss_scale));
  archive.write("state.scaler_good_steps", scalar(s.scaler_good_steps));
  archive.write("state.skipped_steps", scalar(s.skipped_steps));
}

// A fresh tensor per read: InputArchive::read set_()s into a defined tensor,
// which fails when that tensor's storage came from the archive.
torch::Tensor read_tensor(torch::serialize::InputArchive& archive, const std::string& key, bool is_buffer = false) {
  torch::Tensor t;
  archive.read(key, t, is_buffer);
  return t;
}

TrainState read_state(torch::serialize::InputArchive& archive) {
  TrainState s;
  auto get_int = [&](const char* key) { return read_tensor(archive, key).item<int64_t>(); };
  auto get_double = [&](const char* key) { return read_tensor(archive, key).item<double>(); };
  s.iteration = get_int("state.iteration");
  s.epoch = get_int("state.epoch");
  s.batch_in_epoch = get_int("state.batch_in_epoch");
  s.best_miou = get_double("state.best_miou");
  s.best_iteration = get_int("state.best_iteration");
  s.loss_scale = get_double("state.loss_scale");
  s.scaler_good_steps = get_int("state.scaler_good_steps");
  s.skipped_steps = get_int("state.skipped_steps");
  return s;
}

}  // namespace

std::string save_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                            const TrainState& state) {
  torch::serialize::OutputArchive archive;
  for (const auto& p : model.named_parameters()) archive.write("model." + p.key(), p.value(), false);
  for (const auto& b : model.named_buffers()) archive.write("model." + b.key(), b.value(), true);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("rng.cpu", at::detail::getDefaultCPUGenerator().get_state());
  write_state(archive, state);

  std::ostringstream bytes;
  archive.save_to(bytes);
  fs::create_directories(dir);
  std::ostringstream name;
  name << "iter_" << std::setw(7) << std::setfill('0') << state.iteration << ".ckpt";
  const std::string path = (fs::path(dir) / name.str()).string();
  core::write_file_atomic(path, bytes.str());
  return path;
}

TrainState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  if (!fs::exists(path)) throw IoError("checkpoint '" + path + "' does not exist");
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::NoGradGuard no_grad;
    for (auto& p : model.named_parameters()) p.value().copy_(read_tensor(archive, "model." + p.key()));
    for (auto& b : model.named_buffers()) b.value().copy_(read_tensor(archive, "model." + b.key(), true));
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    auto generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(read_tensor(archive, "rng.cpu"));
    return read_state(archive);
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
