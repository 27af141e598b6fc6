#!/usr/bin/env python3
"""Reads the benchmark log of scripts/gpu/check.sh (step 04) and prints, per
row, Python torchvision's median, ours, and the ratio python / ours (above 1:
ours is faster), with our peak GPU memory where the bench printed it.

Our training step includes making the batch (the loader's transform on the
CPU and the copy to the GPU); the Python step reuses one tensor already on
the GPU.  So training rows also show ours less its data time and the ratio
against that: the same work on both sides."""
import re
import sys


def main(path):
    text = open(path).read()
    python = {m.group(1): float(m.group(2)) for m in re.finditer(r"^python (.+?) median ([\d.]+) ms", text, re.M)}
    ours, memory, data = {}, {}, {}
    for m in re.finditer(r"^ours (.+?): .*?(?:step|latency) median ([\d.]+) ms", text, re.M):
        ours[m.group(1)] = float(m.group(2))
    for m in re.finditer(r"^ours (.+?):\s+peak GPU memory (\d+) MiB", text, re.M):
        memory[m.group(1)] = m.group(2)
    for m in re.finditer(r"^ours (.+?):\s+parts \(medians\): data ([\d.]+) ms", text, re.M):
        data[m.group(1)] = float(m.group(2))
    print(f"{'row':<18} {'python ms':>10} {'ours ms':>10} {'ratio':>7} {'ours-data':>10} {'ratio':>7}  peak GPU MiB (ours)")
    missing = []
    for row in python:
        if row not in ours:
            missing.append(row)
            continue
        compute = f"{ours[row] - data[row]:>10.2f} {python[row] / (ours[row] - data[row]):>6.2f}x" if row in data else f"{'-':>10} {'-':>7}"
        print(f"{row:<18} {python[row]:>10.2f} {ours[row]:>10.2f} {python[row] / ours[row]:>6.2f}x {compute}  {memory.get(row, '-')}")
    if missing or not python:
        print("missing rows: " + (", ".join(missing) or "every row"))
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
