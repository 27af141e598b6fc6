#include "deeplab/core/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>
#include <torch/version.h>

#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <signal.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

namespace deeplab::core {
namespace {

// LibTorch 2.x split c10d::ProcessGroup into a front and per-device
// c10d::Backend objects; ProcessGroupGloo/NCCL derive from Backend there.
// Both have the collectives used here with the same signatures.
#if TORCH_VERSION_MAJOR >= 2
using BackendBase = c10d::Backend;
#else
using BackendBase = c10d::ProcessGroup;
#endif

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// Gloo's network devices: the interfaces GLOO_SOCKET_IFNAME names (as
// PyTorch reads it), the loopback when every rank is on this machine, else
// the interface this host name resolves to.
std::vector<std::shared_ptr<::gloo::transport::Device>> gloo_devices(const Rendezvous& rendezvous) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  const char* interfaces = std::getenv("GLOO_SOCKET_IFNAME");
  if (interfaces != nullptr && *interfaces != '\0') {
    for (const auto& name : split_commas(interfaces)) {
      devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    }
    return devices;
  }
  if (rendezvous.single_machine()) {
    devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return devices;
}

// As torch/distributed/rendezvous.py: under torchrun's elastic agent the
// store exists and every rank is its client, behind a prefix per restart;
// otherwise rank 0 serves it.
c10::intrusive_ptr<c10d::Store> make_store(const Rendezvous& rendezvous, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(rendezvous.master_port);
  options.isServer = !rendezvous.agent_store && rendezvous.rank == 0;
  options.numWorkers = static_cast<size_t>(rendezvous.world_size);
  options.waitWorkers = true;
  options.timeout = timeout;
  options.multiTenant = !rendezvous.agent_store;
  auto store = c10::make_intrusive<c10d::TCPStore>(rendezvous.master_addr, options);
  if (!rendezvous.agent_store) return store;
  return c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(rendezvous.restart_count), store);
}

std::string pick_backend(const ProcessGroupOptions& options) {
  const auto available = available_backends();
  const bool has_nccl = std::find(available.begin(), available.end(), "nccl") != available.end();
  if (options.backend == "auto") return options.cuda_device >= 0 && has_nccl ? "nccl" : "gloo";
  if (options.backend == "nccl" && !has_nccl) {
    throw ConfigError("runtime.dist_backend: nccl is not in this build (a CPU LibTorch); use gloo or auto");
  }
  if (options.backend == "nccl" && options.cuda_device < 0) {
    throw ConfigError(
        "runtime.dist_backend: nccl runs collectives on GPUs, but runtime.device is the CPU; use gloo or auto");
  }
  if (options.backend != "gloo" && options.backend != "nccl") {
    throw ConfigError("runtime.dist_backend: '" + options.backend + "' is not a backend; expected auto, gloo or nccl");
  }
  return options.backend;
}

}  // namespace

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<BackendBase> group;
  std::chrono::milliseconds timeout;
  // NCCL's collectives take only GPU tensors: CPU ones travel through a copy
  // on this device.  Gloo takes both (its CUDA paths stage through the host).
  std::optional<c10::Device> collective_device;

  // The tensor the backend sees for `tensor`: itself, or its copy on the
  // collective device (copied back by Work::wait).
  at::Tensor staged(const at::Tensor& tensor) const {
    if (!collective_device || tensor.device() == *collective_device) return tensor;
    return tensor.to(*collective_device);
  }
};

struct ProcessGroup::Work::Impl {
  c10::intrusive_ptr<c10d::Work> work;
  std::string what;  // for errors
  // Tensors the collective wrote into a staged copy of: (copy, caller's tensor).
  std::vector<std::pair<at::Tensor, at::Tensor>> copy_back;
};

namespace {

// Starts a collective; a failure to start is a DistributedError naming it.
template <class Launch>
ProcessGroup::Work start(const std::string& what, Launch launch,
                         std::vector<std::pair<at::Tensor, at::Tensor>> copy_back = {}) {
  auto impl = std::make_shared<ProcessGroup::Work::Impl>();
  impl->what = what;
  impl->copy_back = std::move(copy_back);
  try {
    impl->work = launch();
  } catch (const std::exception& e) {
    throw DistributedError(what + " failed: " + e.what());
  }
  return ProcessGroup::Work(std::move(impl));
}

}  // namespace

std::vector<std::string> available_backends() {
#ifdef USE_C10D_NCCL
  return {"gloo", "nccl"};
#else
  return {"gloo"};
#endif
}

std::string describe_backends() {
#ifdef USE_C10D_NCCL
  return "gloo, nccl " + c10d::getNcclVersion();
#else
  return "gloo";
#endif
}

namespace {

// Gloo writes to its peers' sockets without MSG_NOSIGNAL: when a peer has
// died, the write raises SIGPIPE, whose default action killed this rank
// silently (exit by signal 13) before the failed collective could throw the
// DistributedError that names the dead peer.  Python ignores SIGPIPE at
// start-up, which is why PyTorch users never see this; a handler someone
// installed on purpose is left alone.
void ignore_broken_pipes() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

std::shared_ptr<ProcessGroup> ProcessGroup::create(const Rendezvous& rendezvous, const ProcessGroupOptions& options) {
  ignore_broken_pipes();
  const std::string backend = pick_backend(options);
  auto impl = std::make_unique<Impl>();
  impl->timeout = options.timeout;
  const std::string where = "rank " + std::to_string(rendezvous.rank) + " of " + std::to_string(rendezvous.world_size) +
                            " (" + backend + ", store " + rendezvous.master_addr + ":" +
                            std::to_string(rendezvous.master_port) + ")";
  try {
    impl->store = make_store(rendezvous, options.timeout);
    if (backend == "gloo") {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
      gloo_options->devices = gloo_devices(rendezvous);
      impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, rendezvous.rank, rendezvous.world_size,
                                                                gloo_options);
    } else {
#ifdef USE_C10D_NCCL
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = options.timeout;
      impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, rendezvous.rank, rendezvous.world_size,
                                                                nccl_options);
      impl->collective_device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(options.cuda_device));
#endif
    }
  } catch (const std::exception& e) {
    throw DistributedError(where + ": could not join the process group: " + e.what());
  }
  return std::shared_ptr<ProcessGroup>(
      new ProcessGroup(std::move(impl), rendezvous.rank, rendezvous.world_size, backend));
}

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl, int rank, int world_size, std::string backend)
    : impl_(std::move(impl)), rank_(rank), world_size_(world_size), backend_(std::move(backend)) {}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::Work::wait() {
  if (!impl_) return;
  const auto impl = std::move(impl_);
  try {
    impl->work->wait();
  } catch (const std::exception& e) {
    throw DistributedError(impl->what +
                           " failed (a peer process died or hung past runtime.dist_timeout_s): " + e.what());
  }
  torch::NoGradGuard no_grad;
  for (auto& [staged, target] : impl->copy_back) target.copy_(staged);
}

ProcessGroup::Work ProcessGroup::all_reduce_async(at::Tensor tensor) {
  std::vector<at::Tensor> tensors{impl_->staged(tensor)};
  std::vector<std::pair<at::Tensor, at::Tensor>> copy_back;
  if (!tensors[0].is_same(tensor)) copy_back.emplace_back(tensors[0], tensor);
  return start(
      "rank " + std::to_string(rank_) + ": all-reduce",
      [&] { return impl_->group->allreduce(tensors, c10d::AllreduceOptions{}); }, std::move(copy_back));
}

void ProcessGroup::all_reduce(at::Tensor tensor) { all_reduce_async(std::move(tensor)).wait(); }

void ProcessGroup::broadcast(const std::vector<at::Tensor>& tensors, int root) {
  // Coalesced: one flat message per dtype and device (as c10d's
  // broadcast_coalesced does), not one per parameter.
  std::map<std::pair<int, std::string>, std::vector<at::Tensor>> groups;
  for (const auto& t : tensors) groups[{static_cast<int>(t.scalar_type()), t.device().str()}].push_back(t);
  for (auto& [key, members] : groups) {
    std::vector<at::Tensor> flat_parts;
    for (const auto& t : members) flat_parts.push_back(t.detach().reshape({-1}));
    std::vector<at::Tensor> flat{impl_->staged(torch::cat(flat_parts))};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    start("rank " + std::to_string(rank_) + ": broadcast", [&] {
      return impl_->group->broadcast(flat, options);
    }).wait();
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    for (auto& t : members) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

std::vector<at::Tensor> ProcessGroup::all_gather(const at::Tensor& tensor) {
  std::vector<at::Tensor> inputs{impl_->staged(tensor.contiguous())};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < world_size_; ++r) outputs[0].push_back(torch::empty_like(inputs[0]));
  start("rank " + std::to_string(rank_) + ": all-gather", [&] {
    return impl_->group->allgather(outputs, inputs);
  }).wait();
  for (auto& gathered : outputs[0]) gathered = gathered.to(tensor.device());
  return outputs[0];
}

void ProcessGroup::barrier() {
  c10d::BarrierOptions options;
  // NCCL's barrier is an all-reduce on a device; name ours rather than let it guess from the rank.
  if (impl_->collective_device) options.device_ids = {impl_->collective_device->index()};
  start("rank " + std::to_string(rank_) + ": barrier", [&] { return impl_->group->barrier(options); }).wait();
}

}  // namespace deeplab::core
