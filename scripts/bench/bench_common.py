"""What the benchmarks against torchvision share: their command line, the
VOC-size synthetic data set they read, the machine facts they state, and the
ratio they report."""
import argparse
import os
import subprocess

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def parser(doc, batch_size, crop):
    """--root, --deeplab, --workers, --batch-size and --crop with a benchmark's defaults."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", help="VOC-layout data (default: a synthetic set of 500x375 images)")
    p.add_argument("--deeplab", default=os.path.join(HERE, "..", "..", "build", "deeplab"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--crop", type=int, default=crop)
    return p


def data_root(args):
    """args.root, or the synthetic VOC-layout set (96 train, 4 val images of the
    VOC size 500x375); `deeplab data synth` rewrites it only when stale."""
    if args.root:
        return args.root
    root = "/tmp/deeplab_bench_voc"
    subprocess.run([args.deeplab, "data", "synth", "--layout", "voc", "--out", root, "--num", "100",
                    "--size", "375x500", "--seed", "1", "--val-fraction", "0.04"], check=True,
                   stdout=subprocess.DEVNULL)
    return root


def machine_line():
    """CPUs, torch threads and the BLAS library this Python actually loaded."""
    torch.ones(64, 64) @ torch.ones(64, 64)  # some builds load BLAS lazily
    with open("/proc/self/maps") as maps:
        blas = sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1]})
    return (f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
            f"BLAS {', '.join(blas) or 'none'} (ours: `build/deeplab --version`)")


def report(ours_name, ours, theirs_name, theirs):
    width = max(len(ours_name), len(theirs_name)) + 1
    print(f"{ours_name + ':':<{width}} {ours:8.2f} images/s")
    print(f"{theirs_name + ':':<{width}} {theirs:8.2f} images/s")
    print(f"ratio (ours / torchvision): {ours / theirs:.2f}x")
