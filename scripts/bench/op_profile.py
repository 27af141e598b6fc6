#!/usr/bin/python3
"""Our inference graph beside torchvision's, operator by operator: where a
like-for-like speed gap (scripts/bench/compare.py) comes from.

Python: torch.autograd.profiler over P passes of the torchvision model
(eval, no_grad, fp32 NCHW, batch 1).  Ours: `deeplab bench model
--profile-ops P` on the config that builds the same network, like for like
(BN layers, NCHW, fp32).  Both sides record every ATen operator through the
same RecordFunction hooks; the table lists, per pass, each operator's calls
and self time on both sides, largest difference first.  An operator that one
side calls and the other does not (an out-of-place activation where the other
works in place, an extra copy) is the graph difference to look at; a kernel
with the same calls and a different time is a kernel choice (oneDNN picks
by ISA: try ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 machine).  --kernels then
lists the oneDNN kernels each side ran (ONEDNN_VERBOSE) with their times.

usage: scripts/bench/op_profile.py [--model deeplabv3_mobilenet_v3_large]
           [--passes 4] [--threads N] [--top 25] [--kernels]
           [--deeplab build/deeplab]
"""
import collections
import argparse
import os
import re
import subprocess
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402
from compare import INFERENCE, ROOT  # noqa: E402


def python_profile(name, passes, size):
    torch.manual_seed(0)
    model = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, num_classes=21,
                                                          aux_loss=False).eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        model(x)  # warm-up: oneDNN primitives, allocator
        with torch.autograd.profiler.profile() as prof:
            for _ in range(passes):
                model(x)["out"]
    return {e.key: (e.count / passes, e.self_cpu_time_total / 1e3 / passes) for e in prof.key_averages()}


def our_profile(args, config):
    cmd = [args.deeplab, "bench", "model", "-c", config, "--size", f"{args.size}x{args.size}", "--batch", "1",
           "--iters", "2", "--warmup", "1", "--no-fold-bn", "--no-channels-last", "--amp", "none",
           "--profile-ops", str(args.passes), "--profile-top", "100000",
           "--set", f"runtime.threads={args.threads}", "--set", "runtime.log_level=warn"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        match = re.match(r"\s+(aten::\S+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+ %", line)
        if match:
            rows[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    if not rows:
        sys.exit(f"op_profile.py: no op profile in the output of {' '.join(cmd)}:\n{out}")
    return rows


def python_passes(name, passes, size):
    """--python-passes: the torchvision model's warm-up and passes alone in
    this process (run under ONEDNN_VERBOSE by onednn_kernels)."""
    torch.manual_seed(0)
    model = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, num_classes=21,
                                                          aux_loss=False).eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        for _ in range(1 + passes):
            model(x)["out"]


def onednn_kernels(cmd, threads, passes_run):
    """(primitive, implementation) -> (executions, ms) per pass, from the
    ONEDNN_VERBOSE lines of `cmd`, which runs the model `passes_run` times."""
    env = dict(os.environ, ONEDNN_VERBOSE="1", OMP_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, env=env).stdout
    kernels = collections.defaultdict(lambda: [0, 0.0])
    for line in out.splitlines():
        fields = line.split(",")
        if "exec" not in fields[:3] or "ic1024oc1024" in line:  # our GEMM-peak convolution is not the model
            continue
        at = fields.index("exec")
        key = (fields[at + 2], fields[at + 3])  # after exec: engine, primitive, implementation
        kernels[key][0] += 1
        kernels[key][1] += float(fields[-1])
    scale = 1.0 / passes_run
    return {key: (count * scale, ms * scale) for key, (count, ms) in kernels.items()}


def compare_kernels(args, config):
    here = os.path.abspath(__file__)
    python = onednn_kernels([sys.executable, here, "--python-passes", args.model, "--size", str(args.size),
                             "--passes", str(args.passes), "--threads", str(args.threads)], args.threads,
                            1 + args.passes)
    ours = onednn_kernels([args.deeplab, "bench", "model", "-c", config, "--size", f"{args.size}x{args.size}",
                           "--batch", "1", "--iters", str(args.passes), "--warmup", "1", "--no-fold-bn",
                           "--no-channels-last", "--amp", "none", "--set", f"runtime.threads={args.threads}",
                           "--set", "runtime.log_level=warn"], args.threads,
                          2 + args.passes)  # the model summary's pass (its MACs), the warm-up, the timed ones
    print(f"\noneDNN kernels per pass (ONEDNN_VERBOSE; the averages include the first pass)")
    print(f"  {'primitive / implementation':<44} {'python runs':>11} {'ms':>8}   {'ours runs':>9} {'ms':>8}")
    for key in sorted(set(python) | set(ours), key=lambda k: -max(python.get(k, (0, 0))[1], ours.get(k, (0, 0))[1])):
        pc, pm = python.get(key, (0, 0))
        oc, om = ours.get(key, (0, 0))
        print(f"  {key[0] + ' / ' + key[1]:<44} {pc:11.1f} {pm:8.2f}   {oc:9.1f} {om:8.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="deeplabv3_mobilenet_v3_large", choices=[name for name, _, _ in INFERENCE])
    p.add_argument("--passes", type=int, default=4)
    p.add_argument("--size", type=int, default=513)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--deeplab", default=os.path.join(ROOT, "build", "deeplab"))
    p.add_argument("--kernels", action="store_true", help="also compare the oneDNN kernels (ONEDNN_VERBOSE)")
    p.add_argument("--python-passes", metavar="MODEL", help=argparse.SUPPRESS)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.python_passes:
        return python_passes(args.python_passes, args.passes, args.size)
    config = next(config for name, config, _ in INFERENCE if name == args.model)
    print(bench_common.machine_line())
    print(f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '(unset)')}; {args.model} "
          f"{args.size}x{args.size} batch 1, fp32 NCHW, {args.passes} profiled passes per side\n")
    python = python_profile(args.model, args.passes, args.size)
    ours = our_profile(args, config)
    names = set(python) | set(ours)
    diff = {n: ours.get(n, (0, 0))[1] - python.get(n, (0, 0))[1] for n in names}
    print(f"  {'operator (per pass)':<36} {'python calls':>12} {'self ms':>9}   {'ours calls':>10} {'self ms':>9}"
          f"   {'ours - python':>13}")
    for name in sorted(names, key=lambda n: -abs(diff[n]))[:args.top]:
        pc, pm = python.get(name, (0, 0))
        oc, om = ours.get(name, (0, 0))
        print(f"  {name:<36} {pc:12.1f} {pm:9.2f}   {oc:10.1f} {om:9.2f}   {diff[name]:+13.2f}")
    total_py = sum(ms for _, ms in python.values())
    total_ours = sum(ms for _, ms in ours.values())
    print(f"  {'all operators (self)':<36} {'':12} {total_py:9.2f}   {'':10} {total_ours:9.2f}   "
          f"{total_ours - total_py:+13.2f}")
    if args.kernels:
        compare_kernels(args, config)


if __name__ == "__main__":
    main()
