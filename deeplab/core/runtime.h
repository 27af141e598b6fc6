#pragma once
// Process-wide runtime settings: threads, seeds, device, and a description
// of the build (LibTorch version, BLAS, CUDA) for `deeplab --version`.

#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "deeplab/core/runtime_config.h"

namespace deeplab::core {

/// Sets LibTorch's intra-op threads (0 = all hardware cores, divided by
/// LOCAL_WORLD_SIZE under a launcher; LibTorch here
/// defaults to 1), inter-op threads when given, and OpenBLAS's own pool.
/// Returns the intra-op thread count now in effect.
int apply_threads(int threads, int inter_op_threads = 0);

/// Makes glibc malloc keep freed memory (no mmap for large blocks, no heap
/// trimming), so that tensors freed and allocated again every step reuse
/// pages instead of faulting new ones in (runtime.reuse_freed_memory).
void reuse_freed_memory();

/// Seeds LibTorch's CPU (and CUDA, when present) generators.
void seed_everything(uint64_t seed);

/// "cpu" | "cuda" | "cuda:N" | "auto" -> a device; throws RuntimeError when
/// CUDA is asked for but absent, or N is not a visible GPU.
c10::Device resolve_device(const std::string& spec);

/// Applies threads and seed of the `runtime:` section; returns the device.
c10::Device apply_runtime(const RuntimeConfig& runtime);

/// Path of the BLAS library actually loaded into this process.
std::string loaded_blas_library();
/// That path, or "MKL, linked into LibTorch" for official packages, with a
/// warning when it is the slow reference BLAS.
std::string describe_blas();

/// Multi-line build and runtime summary printed by `deeplab --version`.
std::string build_summary();

}  // namespace deeplab::core
