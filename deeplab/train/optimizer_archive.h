#pragma once
// Loading an optimizer's state from a checkpoint across LibTorch versions.
// LibTorch 1.x keys each parameter's state (momentum, Adam moments) by the
// parameter's address printed in hexadecimal ("0x55d0c1a2b3c0"); 2.x prints
// the address in decimal and parses it with std::stoull, which reads every
// hexadecimal key as 0, so a 1.x checkpoint resumed on 2.x gave every
// parameter one parameter's state (a shape error at the first step).

#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>

namespace deeplab::train {

/// optimizer.load(archive), first rewriting 1.x hexadecimal parameter keys
/// to decimal where this LibTorch expects decimal ones.
void load_optimizer_state(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive);

/// Whether `archive` (an optimizer's) names parameters by hexadecimal addresses.
bool has_hexadecimal_parameter_keys(torch::serialize::InputArchive& archive);

}  // namespace deeplab::train
