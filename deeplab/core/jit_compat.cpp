#include "deeplab/core/jit_compat.h"

namespace deeplab::core::jit_compat {

void trace_into(torch::jit::Module& self, const TracedFn& fn, const at::Tensor& example, const std::string& method) {
  using torch::jit::Stack;
  auto traced = torch::jit::tracer::trace(
      Stack{example}, [&fn](Stack inputs) -> Stack { return Stack{fn(inputs.at(0).toTensor())}; },
      // Value names are cosmetic in the graph; an empty name lets the tracer number them.
      [](const torch::autograd::Variable&) { return std::string(); },
      // strict=false admits list/dict outputs (Python's torch.jit.trace(strict=False)).
      /*strict=*/false, /*force_outplace=*/false, &self, /*argument_names=*/{"x"});
  const std::shared_ptr<torch::jit::Graph> graph = traced.first->graph;
  auto* function =
      self._ivalue()->compilation_unit()->create_function(c10::QualifiedName(*self.type()->name(), method), graph);
  self.type()->addMethod(function);
}

}  // namespace deeplab::core::jit_compat
