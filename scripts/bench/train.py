#!/usr/bin/python3
"""Training throughput: `deeplab train` vs a torchvision training loop doing
the same work on the same machine.

Both train torchvision's deeplabv3_mobilenet_v3_large architecture (our
configs/torchvision/deeplabv3_mobilenet_v3_large.yaml builds the identical
network, parameter for parameter) from scratch on VOC-layout JPEG/PNG data:
the full training augmentation of scripts/bench/loader.py, random crops,
cross-entropy with ignore index 255 on the main and aux outputs, SGD with
momentum 0.9, weight decay 1e-4 and a poly schedule, updated every
iteration. Images/s counts every step from the first batch on, data waits
included, for both.

usage: scripts/bench/train.py [--root DIR] [--iters 30] [--batch-size 4]
                              [--crop 257] [--workers 2] [--threads N]
                              [--deeplab build/deeplab]
Without --root it writes a synthetic VOC-layout set of 500x375 images (the
VOC size) to /tmp/deeplab_bench_train_voc with `deeplab data synth`.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loader import VocTrain  # noqa: E402  (the same augmentation as the loader benchmark)


def bench_torchvision(root, crop, workers, batch_size, iters, lr=0.01):
    torch.manual_seed(0)
    model = torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=True).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    criterion = torch.nn.CrossEntropyLoss(ignore_index=255)
    loader = torch.utils.data.DataLoader(VocTrain(root, crop), batch_size=batch_size, shuffle=True,
                                         num_workers=workers, drop_last=True, persistent_workers=workers > 0)
    images, done, it = 0, 0, iter(loader)
    start = time.perf_counter()
    while done < iters:
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        for group in optimizer.param_groups:
            group["lr"] = lr * (1 - done / iters) ** 0.9
        out = model(x)
        loss = criterion(out["out"], y) + 0.5 * criterion(out["aux"], y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        images += x.shape[0]
        done += 1
    return images / (time.perf_counter() - start)


def bench_ours(deeplab, root, crop, workers, batch_size, iters, threads):
    here = os.path.dirname(os.path.abspath(__file__))
    config = os.path.join(here, "..", "..", "configs", "torchvision", "deeplabv3_mobilenet_v3_large.yaml")
    with tempfile.TemporaryDirectory() as work:
        sets = [f"data.root={root}", f"data.crop_size=[{crop},{crop}]", f"data.batch_size={batch_size}",
                f"data.workers={workers}", "data.photometric.enabled=true", f"train.max_iters={iters}",
                "train.optimizer.name=sgd", "train.optimizer.momentum=0.9", "train.optimizer.weight_decay=1e-4",
                "train.lr=0.01", "train.schedule.name=poly", "train.schedule.warmup_iters=0", "train.loss.aux_weight=0.5",
                f"train.checkpoint_every={iters}", "train.vis_samples=0", f"runtime.threads={threads}"]
        cmd = [deeplab, "train", "-c", config, "--work-dir", work]
        for s in sets:
            cmd += ["--set", s]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = re.search(r"done: .*", out).group(0)
    print("  " + line)
    return float(re.search(r"([0-9.]+) images/s", line).group(1))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root")
    p.add_argument("--deeplab", default=os.path.join(here, "..", "..", "build", "deeplab"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--crop", type=int, default=257)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    root = a.root
    if root is None:
        root = "/tmp/deeplab_bench_train_voc"
        subprocess.run([a.deeplab, "data", "synth", "--layout", "voc", "--out", root, "--num", "100",
                        "--size", "375x500", "--seed", "1", "--val-fraction", "0.04"], check=True)
    torch.ones(64, 64) @ torch.ones(64, 64)  # BLAS is loaded lazily by some builds
    with open("/proc/self/maps") as maps:
        blas = sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1]})
    print(f"training deeplabv3_mobilenet_v3_large at {a.crop}x{a.crop}, batch {a.batch_size}, {a.iters} iterations, "
          f"{a.workers} workers, {a.threads} threads, torch {torch.__version__}")
    print(f"  BLAS in this Python: {', '.join(blas) or 'none'}; ours: see `build/deeplab --version`")
    ours = bench_ours(a.deeplab, root, a.crop, a.workers, a.batch_size, a.iters, a.threads)
    theirs = bench_torchvision(root, a.crop, a.workers, a.batch_size, a.iters)
    print(f"deeplab train:            {ours:8.2f} images/s")
    print(f"torchvision training loop:{theirs:8.2f} images/s")
    print(f"ratio (ours / torchvision): {ours / theirs:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
