#include "deeplab/core/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <regex>
#include <sstream>
#include <thread>

#include "deeplab/core/cuda_device.h"
#include "deeplab/core/error.h"
#include "deeplab/core/process_group.h"

namespace deeplab::core {

bool is_device_spec(const std::string& spec) {
  static const std::regex pattern("cpu|cuda|cuda:[0-9]+|auto");
  return std::regex_match(spec, pattern);
}

int apply_threads(int threads, int inter_op_threads) {
  // All cores by default, shared by the processes a launcher started on this
  // machine (LOCAL_WORLD_SIZE) so that N workers do not oversubscribe them.
  const char* local_world = std::getenv("LOCAL_WORLD_SIZE");
  const int sharers = local_world != nullptr ? std::max(1, std::atoi(local_world)) : 1;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int wanted = threads > 0 ? threads : std::max(1, cores / sharers);
  at::set_num_threads(wanted);
  // OpenBLAS keeps its own pool; Debian's torch does not forward to it.
  using SetBlasThreads = void (*)(int);
  if (auto set_blas = reinterpret_cast<SetBlasThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set_blas(wanted);
  }
  if (inter_op_threads > 0 && static_cast<int>(at::get_num_interop_threads()) != inter_op_threads) {
    try {
      at::set_num_interop_threads(inter_op_threads);
    } catch (const c10::Error&) {
      throw RuntimeError("runtime.inter_op_threads: can only be set before any parallel work starts");
    }
  }
  return at::get_num_threads();
}

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

c10::Device resolve_device(const std::string& spec) {
  if (!is_device_spec(spec)) {
    throw RuntimeError("runtime.device: '" + spec + "' is not a device; expected cpu, cuda, cuda:N or auto");
  }
  if (spec == "cpu") return c10::Device(c10::kCPU);
  const bool have_cuda = torch::cuda::is_available();
  if (spec == "auto") return have_cuda ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (!have_cuda) {
    throw RuntimeError("runtime.device: '" + spec +
                       "' requested but CUDA is not available (no GPU visible or LibTorch built without CUDA); "
                       "use 'cpu' or 'auto'");
  }
  const int index = spec == "cuda" ? 0 : std::stoi(spec.substr(5));
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw RuntimeError("runtime.device: '" + spec + "' requested but only " + std::to_string(count) +
                       " CUDA device(s) are visible");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void reuse_freed_memory() {
  // glibc serves a block over its mmap threshold (at most 32 MB) with fresh
  // pages and unmaps it on free, and trims the heap's free top: a training
  // step's large activations were page-faulted in anew every step (a
  // ResNet-50 step at batch 4, crop 321: 4.45M page faults over a warm-up
  // and 3 steps, 1.01M with these settings; peak RSS 3.1 -> 4.1 GB; against
  // Python's step 0.91x before, 1.16x after, in compare.py's step pairs).
  // So: no mmap, and the free top is kept up to the largest threshold and
  // pad mallopt takes.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  mallopt(M_TOP_PAD, 1 << 30);
}

c10::Device apply_runtime(const RuntimeConfig& runtime) {
  if (runtime.reuse_freed_memory) reuse_freed_memory();
  apply_threads(runtime.threads, runtime.inter_op_threads);
  seed_everything(static_cast<uint64_t>(runtime.seed));
  set_cudnn_benchmark(runtime.cudnn_benchmark);
  const c10::Device device = resolve_device(runtime.device);
  set_current_device(device);
  return device;
}

std::string loaded_blas_library() {
  std::string found;
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) -> int {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        const std::string file = std::filesystem::path(name).filename().string();
        if (file.rfind("libblas", 0) == 0 || file.rfind("libopenblas", 0) == 0 || file.rfind("libmkl_rt", 0) == 0) {
          std::error_code ec;
          const auto real = std::filesystem::canonical(name, ec);
          *static_cast<std::string*>(out) = ec ? name : real.string();
          return 1;
        }
        return 0;
      },
      &found);
  return found.empty() ? "none loaded" : found;
}

std::string describe_blas() {
  // Official LibTorch packages link MKL in statically (a BLAS library loaded
  // beside it, e.g. OpenCV's, is not the one torch calls).
  if (at::hasMKL()) return "MKL, linked into LibTorch";
  const std::string blas = loaded_blas_library();
  const bool reference = blas.find("openblas") == std::string::npos && blas.find("mkl") == std::string::npos;
  return blas + (reference ? "  (reference BLAS: slow; install libopenblas0-pthread)" : "");
}

std::string build_summary() {
  std::ostringstream out;
  out << "LibTorch " << TORCH_VERSION << "\n";
  out << "BLAS: " << describe_blas() << "\n";
  out << "threads: " << at::get_num_threads() << " intra-op, " << at::get_num_interop_threads()
      << " inter-op (hardware cores: " << std::thread::hardware_concurrency() << ")\n";
  out << "CUDA: " << describe_cuda() << "\n";
  out << "c10d backends: " << describe_backends() << "\n";
  return out.str();
}

}  // namespace deeplab::core
