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
Without --root it reads a synthetic VOC-layout set of 500x375 images (the VOC
size) that `deeplab data synth` keeps in /tmp/deeplab_bench_voc.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402
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
    config = os.path.join(bench_common.HERE, "..", "..", "configs", "torchvision", "deeplabv3_mobilenet_v3_large.yaml")
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
    p = bench_common.parser(__doc__, batch_size=4, crop=257)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    root = bench_common.data_root(a)
    print(f"training deeplabv3_mobilenet_v3_large at {a.crop}x{a.crop}, batch {a.batch_size}, {a.iters} iterations, "
          f"{a.workers} workers; " + bench_common.machine_line())
    ours = bench_ours(a.deeplab, root, a.crop, a.workers, a.batch_size, a.iters, a.threads)
    theirs = bench_torchvision(root, a.crop, a.workers, a.batch_size, a.iters)
    bench_common.report("deeplab train", ours, "torchvision training loop", theirs)


if __name__ == "__main__":
    sys.exit(main())
