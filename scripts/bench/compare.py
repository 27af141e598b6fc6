#!/usr/bin/python3
"""Our inference and training step against Python torchvision, same machine,
same LibTorch (Debian's python3-torch 1.13 and our build link the same
libtorch), same thread count.

Inference: deeplabv3_resnet50 and deeplabv3_mobilenet_v3_large at 513x513,
batch 1, eval mode (torchvision built with aux_loss=False, as its pretrained
models are used; our configs/torchvision/*.yaml build the same networks and
skip the aux head at inference).  Training: a deeplabv3_resnet50 step at
batch 4, crop 321 (aux head on both sides, cross-entropy with ignore 255 plus
0.4 x aux, SGD momentum 0.9), on in-memory data so no loader is timed.

Inference: each round times Python, then ours (each alone on the machine), K
passes each after a warm-up; rounds repeat R times, so the spread between
rounds shows how noisy the machine is.  Training: our bench runs paced
(`--paced`) beside the Python step, and R x K pairs of steps are timed one
after the other, alternating which side goes first; the ratio's spread is
over the pairs.  Rows:
  like for like  ours in fp32 NCHW with BN layers (the same kernels as Python)
  ours best      folded BN + channels-last [+ bf16 autocast where it gains and
                 the CPU has native bf16: avx512_bf16 or AMX]
Both ratios are against Python's fp32 default (NCHW, no autocast).

usage: scripts/bench/compare.py [--rounds 3] [--iters 5] [--threads N]
                                [--only inference|train] [--models NAME ...]
                                [--deeplab build/deeplab]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402

ROOT = os.path.abspath(os.path.join(bench_common.HERE, "..", ".."))
INFERENCE = [  # torchvision name, our config, the autocast our best settings use
    ("deeplabv3_resnet50", "configs/torchvision/deeplabv3_resnet50.yaml", "bf16"),
    ("deeplabv3_mobilenet_v3_large", "configs/torchvision/deeplabv3_mobilenet_v3_large.yaml", "none"),
]
TRAIN_CONFIG = "configs/torchvision/deeplabv3_resnet50.yaml"


def timed(fn, iters, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def python_inference(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, num_classes=21,
                                                          aux_loss=False).eval()
    x = torch.randn(1, 3, 513, 513)

    def run():
        with torch.no_grad():
            model(x)["out"]
    return run


def python_train_step(batch, crop):
    torch.manual_seed(0)
    model = torchvision.models.segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21,
                                                               aux_loss=True).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    criterion = torch.nn.CrossEntropyLoss(ignore_index=255)
    x = torch.randn(batch, 3, crop, crop)
    y = torch.randint(0, 21, (batch, crop, crop))

    def run():
        out = model(x)
        loss = criterion(out["out"], y) + 0.4 * criterion(out["aux"], y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
    return run


def ours(args, words, pattern):
    cmd = [args.deeplab, "bench"] + words + ["--set", f"runtime.threads={args.threads}", "--set", "runtime.log_level=warn"]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    match = re.search(pattern, out)
    if not match:
        sys.exit(f"compare.py: no timing in the output of {' '.join(cmd)}:\n{out}")
    return float(match.group(1)), out


def spread(values):
    return f"{statistics.median(values):8.1f} ms  (rounds {min(values):.1f}..{max(values):.1f})"


def ratio_line(label, python_ms, our_ms):
    ratios = [p / o for p, o in zip(python_ms, our_ms)]
    return (f"  {label:<14} {spread(our_ms)}  ratio {statistics.median(python_ms) / statistics.median(our_ms):.2f}x "
            f"(per round {min(ratios):.2f}..{max(ratios):.2f})")


def compare_inference(args, flags):
    native_bf16 = "avx512_bf16" in flags or "amx_bf16" in flags
    for name, config, best_amp in INFERENCE:
        if args.models and name not in args.models:
            continue
        if best_amp == "bf16" and not native_bf16:
            best_amp = "none"  # bf16 without avx512_bf16/AMX is emulated, many times slower than fp32
        python_run = python_inference(name)
        model_words = ["model", "-c", config, "--size", "513x513", "--batch", "1", "--iters", str(args.iters),
                       "--warmup", "1"]
        py, like, best = [], [], []
        for _ in range(args.rounds):
            py.append(timed(python_run, args.iters))
            ms, out = ours(args, model_words + ["--no-fold-bn", "--no-channels-last", "--amp", "none"],
                           r"latency median ([\d.]+) ms")
            like.append(ms)
            best.append(ours(args, model_words + ["--fold-bn", "--channels-last", "--amp", best_amp],
                             r"latency median ([\d.]+) ms")[0])
        share = re.search(r"= (\d+) % of the measured GEMM peak ([\d.]+)", out)
        print(f"{name} 513x513 batch 1, inference")
        print(f"  {'python fp32':<14} {spread(py)}")
        print(ratio_line("like for like", py, like))
        print(ratio_line("ours best", py, best) + f"  [folded BN, channels-last, amp {best_amp}]")
        if share:
            print(f"  like for like (last round) reaches {share.group(1)} % of the fp32 GEMM peak measured beside it "
                  f"({share.group(2)} GFLOP/s)")
        sys.stdout.flush()


class PacedSteps:
    """Our `deeplab bench train --paced`: builds and warms up, then runs one
    timed step per request, so that its steps interleave one by one with
    Python's (the machine's speed drifts over minutes; a pair of neighbouring
    steps sees the same machine)."""

    def __init__(self, args, words):
        self.cmd = [args.deeplab, "bench"] + words + ["--paced", "--set", f"runtime.threads={args.threads}",
                                                      "--set", "runtime.log_level=warn"]
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read(r"ready")

    def _read(self, pattern):
        line = self.proc.stdout.readline()
        match = re.match(pattern, line)
        if not match:
            self.proc.kill()
            sys.exit(f"compare.py: expected /{pattern}/ from {' '.join(self.cmd)}, got {line!r}")
        return match

    def step(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return float(self._read(r"step ([\d.]+) ms").group(1))

    def close(self):
        self.proc.stdin.close()  # EOF: the bench prints its summary and exits
        self.proc.stdout.read()
        if self.proc.wait() != 0:
            sys.exit(f"compare.py: {' '.join(self.cmd)} failed")


def interleaved(python_run, ours_paced, pairs):
    """Step times of `pairs` neighbouring pairs, the order alternating (Python
    first in even pairs) so that neither side always runs on a warmer cache."""
    py, ours = [], []
    for k in range(pairs):
        if k % 2 == 0:
            py.append(timed(python_run, 1, warmup=0))
            ours.append(ours_paced.step())
        else:
            ours.append(ours_paced.step())
            py.append(timed(python_run, 1, warmup=0))
    return py, ours


def pair_line(label, python_ms, our_ms):
    ratios = sorted(p / o for p, o in zip(python_ms, our_ms))
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return (f"  {label:<14} {statistics.median(our_ms):8.1f} ms  ratio {statistics.median(python_ms) / statistics.median(our_ms):.2f}x "
            f"(pairs: median {statistics.median(ratios):.2f}, quartiles {quartiles[0]:.2f}..{quartiles[2]:.2f}, "
            f"range {ratios[0]:.2f}..{ratios[-1]:.2f})")


def compare_train(args):
    python_run = python_train_step(4, 321)
    words = ["train", "-c", TRAIN_CONFIG, "--batch", "4", "--crop", "321x321", "--iters", "1000000", "--warmup", "1"]
    pairs = args.rounds * args.iters
    python_run()  # warm-up
    print(f"deeplabv3_resnet50 training step, batch 4, crop 321: {pairs} interleaved step pairs per row")
    for label, extra in (("like for like", []), ("ours bf16", ["--amp", "bf16", "--channels-last"])):
        paced = PacedSteps(args, words + extra)
        py, ours_ms = interleaved(python_run, paced, pairs)
        paced.close()
        print(f"  {'python fp32':<14} {statistics.median(py):8.1f} ms  (steps {min(py):.1f}..{max(py):.1f})")
        print(pair_line(label, py, ours_ms) + ("  [bf16 autocast, channels-last]" if extra else ""))
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deeplab", default=os.path.join(ROOT, "build", "deeplab"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--only", choices=["inference", "train"])
    p.add_argument("--models", nargs="+", choices=[name for name, _, _ in INFERENCE],
                   help="inference rows to run (default: all)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":")[1].split() for line in f if line.startswith("flags")), [])
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    print(bench_common.machine_line())
    print("CPU flags: " + ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in wanted))
    print(f"inference: {args.rounds} rounds x {args.iters} timed passes per side, Python first in each round; "
          f"training: {args.rounds * args.iters} interleaved step pairs\n")
    if args.only != "train":
        compare_inference(args, flags)
    if args.only != "inference":
        compare_train(args)


if __name__ == "__main__":
    main()
