#!/usr/bin/env python3
"""The Python torchvision side of the GPU check (scripts/gpu/check.sh): the
same work as `deeplab bench train` and `deeplab bench model` on the same
device, timed the same way (synchronised before each clock read, median over
the timed passes after a warm-up).

Training: deeplabv3_resnet50 with its aux head, cross-entropy (ignore 255)
plus 0.4 x aux, SGD momentum 0.9, at --train-batch and --crop; fp32, and
fp16 autocast with a GradScaler (--amp).  Inference: deeplabv3_resnet50
without the aux head, eval mode, no_grad, at --crop for each --infer-batch.

Prints one line per row: `python <row> median <ms> ms`.
"""
import argparse
import statistics
import time

import torch
import torchvision


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn, device, iters, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def train_step(device, batch, crop, amp):
    torch.manual_seed(0)
    model = torchvision.models.segmentation.deeplabv3_resnet50(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=True).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    criterion = torch.nn.CrossEntropyLoss(ignore_index=255)
    # torch.amp.GradScaler is 2.3+; torch.cuda.amp's (also a no-op when disabled) is older.
    scaler = (torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda") if hasattr(torch.amp, "GradScaler")
              else torch.cuda.amp.GradScaler(enabled=amp and device.type == "cuda"))
    x = torch.randn(batch, 3, crop, crop, device=device)
    y = torch.randint(0, 21, (batch, crop, crop), device=device)

    def run():
        with torch.autocast(device.type, dtype=torch.float16 if device.type == "cuda" else torch.bfloat16,
                            enabled=amp):
            out = model(x)
            loss = criterion(out["out"], y) + 0.4 * criterion(out["aux"], y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        loss.item()
    return run


def inference(device, batch, crop):
    torch.manual_seed(0)
    model = torchvision.models.segmentation.deeplabv3_resnet50(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=False).to(device).eval()
    x = torch.randn(batch, 3, crop, crop, device=device)

    def run():
        with torch.no_grad():
            model(x)["out"]
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda")
    p.add_argument("--train-batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=513)
    p.add_argument("--infer-batch", type=int, action="append")
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--only", choices=["train", "inference"])
    args = p.parse_args()
    device = torch.device(args.device)
    print(f"python torch {torch.__version__}, torchvision {torchvision.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
             f", {torch.get_num_threads()} threads"), flush=True)
    if args.only != "inference":
        for label, amp in (("train fp32", False), ("train amp", True)):
            ms = median_ms(train_step(device, args.train_batch, args.crop, amp), device, args.iters, args.warmup)
            print(f"python {label} median {ms:.2f} ms", flush=True)
    if args.only != "train":
        for batch in args.infer_batch or [1, 16]:
            ms = median_ms(inference(device, batch, args.crop), device, args.iters, args.warmup)
            print(f"python infer batch {batch} median {ms:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
