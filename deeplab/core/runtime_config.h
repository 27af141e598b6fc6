#pragma once
// `runtime:` section of an experiment config: threads, seed, device, logging.

#include <string>

#include "deeplab/core/config_check.h"

namespace deeplab::core {

/// True for "cpu", "cuda", "cuda:N" and "auto".
bool is_device_spec(const std::string& spec);

struct RuntimeConfig {
  int threads = 0;           // intra-op threads; 0: all hardware cores
  int inter_op_threads = 0;  // 0: LibTorch's default
  // glibc malloc keeps freed memory for reuse instead of handing large blocks
  // back to the kernel (see core::reuse_freed_memory): faster steps, higher RSS.
  bool reuse_freed_memory = true;
  int64_t seed = 0;
  std::string device = "auto";
  // cuDNN autotunes convolution algorithms per input shape: faster for fixed
  // crops, but the chosen kernels (and the last bits of results) may vary.
  bool cudnn_benchmark = false;
  std::string log_level = "info";
  std::string work_dir = "work_dirs/default";
  // Multi-process training (torchrun, srun or `deeplab launch` set the ranks).
  std::string dist_backend = "auto";  // auto: nccl on GPUs when built with it, else gloo
  double dist_timeout_s = 1800;       // a hung peer ends the job after this long
  double dist_bucket_mb = 25;         // gradient all-reduce bucket size
  bool dist_overlap = true;           // all-reduce buckets while backward runs

  template <class V>
  void fields(V& v) {
    using namespace check;
    v("threads", threads, non_negative());
    v("inter_op_threads", inter_op_threads, non_negative());
    v("reuse_freed_memory", reuse_freed_memory);
    v("seed", seed, non_negative());
    v("device", device, satisfying(is_device_spec, "cpu, cuda, cuda:N or auto"));
    v("cudnn_benchmark", cudnn_benchmark);
    v("log_level", log_level, one_of({"trace", "debug", "info", "warn", "error", "off"}));
    v("work_dir", work_dir);
    v("dist_backend", dist_backend, one_of({"auto", "gloo", "nccl"}));
    v("dist_timeout_s", dist_timeout_s, positive());
    v("dist_bucket_mb", dist_bucket_mb, positive());
    v("dist_overlap", dist_overlap);
  }
};

}  // namespace deeplab::core
