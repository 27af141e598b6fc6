#!/usr/bin/python3
"""Input-pipeline throughput: our `deeplab bench loader` vs a torchvision
DataLoader doing the same work on the same machine.

Both decode VOC-layout JPEG images and palette PNG labels, apply the full
training augmentation (random scale 0.5-2.0 in 0.25 steps, pad to the crop with
the mean / 255, random 513x513 crop, horizontal flip, photometric distortion
with each of brightness/contrast/saturation/hue at p=0.5, ImageNet
normalisation) and collate batches, with the same batch size and worker count.

usage: scripts/bench/loader.py [--root DIR] [--workers 2] [--batch-size 8]
                               [--batches 30] [--warmup 3] [--deeplab build/deeplab]
Without --root it reads a synthetic VOC-layout set of 500x375 images (the VOC
size) that `deeplab data synth` keeps in /tmp/deeplab_bench_voc.
"""
import os
import random
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision.transforms.functional as F
from PIL import Image

import bench_common

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
SCALES = [0.5 + 0.25 * i for i in range(7)]


class VocTrain(torch.utils.data.Dataset):
    def __init__(self, root, crop):
        with open(os.path.join(root, "ImageSets/Segmentation/train.txt")) as f:
            self.ids = [line.strip() for line in f if line.strip()]
        self.root, self.crop = root, crop
        self.fill = tuple(int(round(m * 255)) for m in MEAN)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        image = Image.open(os.path.join(self.root, "JPEGImages", self.ids[i] + ".jpg")).convert("RGB")
        label = Image.open(os.path.join(self.root, "SegmentationClass", self.ids[i] + ".png"))  # P mode: indices
        s = random.choice(SCALES)
        size = [max(1, round(image.height * s)), max(1, round(image.width * s))]
        image = F.resize(image, size, interpolation=F.InterpolationMode.BILINEAR)
        label = F.resize(label, size, interpolation=F.InterpolationMode.NEAREST)
        ph, pw = max(self.crop - size[0], 0), max(self.crop - size[1], 0)
        if ph or pw:
            image = F.pad(image, [0, 0, pw, ph], fill=self.fill)
            label = F.pad(label, [0, 0, pw, ph], fill=255)
        y = random.randint(0, image.height - self.crop)
        x = random.randint(0, image.width - self.crop)
        image = F.crop(image, y, x, self.crop, self.crop)
        label = F.crop(label, y, x, self.crop, self.crop)
        if random.random() < 0.5:
            image, label = F.hflip(image), F.hflip(label)
        if random.random() < 0.5:
            image = F.adjust_brightness(image, 1 + random.uniform(-32, 32) / 255)
        if random.random() < 0.5:
            image = F.adjust_contrast(image, random.uniform(0.5, 1.5))
        if random.random() < 0.5:
            image = F.adjust_saturation(image, random.uniform(0.5, 1.5))
        if random.random() < 0.5:
            image = F.adjust_hue(image, random.uniform(-18, 18) / 360)
        tensor = F.normalize(F.to_tensor(image), MEAN, STD)
        return tensor, torch.as_tensor(np.array(label), dtype=torch.int64)


def bench_torchvision(root, crop, workers, batch_size, batches, warmup):
    loader = torch.utils.data.DataLoader(VocTrain(root, crop), batch_size=batch_size, shuffle=True,
                                         num_workers=workers, drop_last=True, persistent_workers=workers > 0,
                                         prefetch_factor=2 if workers > 0 else None)
    it, done, images, start = None, 0, 0, None
    while done < warmup + batches:
        if it is None:
            it = iter(loader)
        try:
            images_batch, _ = next(it)
        except StopIteration:
            it = None
            continue
        done += 1
        if done == warmup:
            start = time.perf_counter()
        elif done > warmup:
            images += images_batch.shape[0]
    return images / (time.perf_counter() - start)


def bench_ours(deeplab, root, crop, workers, batch_size, batches, warmup):
    sets = [f"data.root={root}", f"data.crop_size=[{crop},{crop}]", f"data.batch_size={batch_size}",
            f"data.workers={workers}", "data.photometric.enabled=true"]
    cmd = [deeplab, "bench", "loader", "--batches", str(batches), "--warmup", str(warmup)]
    for s in sets:
        cmd += ["--set", s]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    print("  " + out.strip())
    return float(re.search(r"= ([0-9.]+) images/s", out).group(1))


def main():
    p = bench_common.parser(__doc__, batch_size=8, crop=513)
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    root = bench_common.data_root(a)
    print(f"input pipeline at {a.crop}x{a.crop}, batch {a.batch_size}, {a.workers} workers; "
          + bench_common.machine_line())
    ours = bench_ours(a.deeplab, root, a.crop, a.workers, a.batch_size, a.batches, a.warmup)
    theirs = bench_torchvision(root, a.crop, a.workers, a.batch_size, a.batches, a.warmup)
    bench_common.report("deeplab loader", ours, "torchvision DataLoader", theirs)


if __name__ == "__main__":
    sys.exit(main())
