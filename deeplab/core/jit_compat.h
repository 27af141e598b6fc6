#pragma once
// The version-sensitive JIT tracer calls, in one place, so a port to another
// LibTorch (e.g. 2.x) touches only this header and jit_compat.cpp.
//
// It lives in core because both the models (resize.cpp stashes sizes while
// tracing) and the export area (which traces) use it.

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/version.h>

#include <functional>
#include <string>

#if TORCH_VERSION_MAJOR < 1 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR < 10)
#error "deeplab needs LibTorch >= 1.10 (tracer::trace with a Module* self and argument names)"
#endif

namespace deeplab::core::jit_compat {

/// True while a trace is being recorded on this thread.
inline bool is_tracing() { return torch::jit::tracer::isTracing(); }

/// Makes the next traced op's int-list argument `arg_name` (of `count`
/// elements) read `like.size(first_dim + i)` at run time instead of baking
/// in today's numbers.  Call only while is_tracing(), right before the op.
inline void stash_sizes_of(const char* arg_name, const at::Tensor& like, int64_t first_dim, size_t count) {
  // 1.x and 2.x (up to at least 2.1) share these calls; 2.x ops taking
  // SymInt[] lists still consult the int-list stash.
  for (size_t i = 0; i < count; ++i) {
    torch::jit::tracer::ArgumentStash::stashIntArrayRefElem(
        arg_name, count, i, torch::jit::tracer::getSizeOf(like, first_dim + static_cast<int64_t>(i)));
  }
}

/// The traced function: one input tensor, any IValue out (tensor, list, dict).
using TracedFn = std::function<c10::IValue(const at::Tensor&)>;

/// Traces `fn(example)` and adds it to `self` as method `method`.  The tensors
/// `fn` uses must be the very tensor objects registered in `self` (parameters
/// and buffers); they become attribute reads in the graph, everything else
/// becomes a constant.
void trace_into(torch::jit::Module& self, const TracedFn& fn, const at::Tensor& example,
                const std::string& method = "forward");

}  // namespace deeplab::core::jit_compat
