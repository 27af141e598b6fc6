#!/usr/bin/env python3
"""Converts a TorchScript file that `deeplab export` wrote into ONNX, for
ONNX Runtime, TensorRT or OpenVINO (docs/deployment.md).

    python3 scripts/export_onnx.py model.pt model.onnx [--opset 17] [--size 257x257]

Runs with any Python whose torch has the TorchScript-based exporter: Debian's
python3-torch (1.13) or PyPI's torch (2.x; dynamo=False is passed, since the
dynamo exporter takes no ScriptModule).  Batch, height and width stay
dynamic.  A semantic model has one output, "logits" [N, K, H, W]; a
panoptic model's dict becomes the outputs "semantic", "center" and
"offset".  The export's meta.json is written beside the .onnx file as
<name>.meta.json, with "onnx": {"opset", "inputs", "outputs"} added.
"""
import argparse
import json
import os
import sys
from typing import Tuple

import torch

PANOPTIC_OUTPUTS = ("semantic", "center", "offset")


class NamedOutputs(torch.nn.Module):
    """Turns a panoptic export's dict into a tuple in PANOPTIC_OUTPUTS' order
    (scripted, not traced: a loaded ScriptModule cannot be traced through)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.model(images)
        return out["semantic"], out["center"], out["offset"]


def parse_size(text):
    try:
        h, w = text.lower().split("x")
        return int(h), int(w)
    except ValueError:
        sys.exit(f"export_onnx: --size expects HEIGHTxWIDTH, e.g. 257x257, got '{text}'")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="TorchScript file from `deeplab export`")
    parser.add_argument("output", help="the .onnx file to write")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--size", default="", help="example input HEIGHTxWIDTH (default: the export's input_size)")
    args = parser.parse_args()

    if not os.path.isfile(args.model):
        sys.exit(f"export_onnx: {args.model} does not exist")
    extra = {"meta.json": ""}
    try:
        model = torch.jit.load(args.model, map_location="cpu", _extra_files=extra)
    except Exception as error:  # noqa: BLE001 - any load failure is reported by name
        sys.exit(f"export_onnx: {args.model} is not a TorchScript file torch {torch.__version__} reads: {error}")
    if not extra["meta.json"]:
        sys.exit(f"export_onnx: {args.model} has no meta.json: was it written by `deeplab export`?")
    meta = json.loads(extra["meta.json"])
    model.eval()

    height, width = parse_size(args.size) if args.size else tuple(meta.get("input_size", [257, 257]))
    example = torch.zeros(1, 3, height, width)
    with torch.no_grad():
        sample = model(example)
    if isinstance(sample, dict):
        missing = [name for name in PANOPTIC_OUTPUTS if name not in sample]
        if missing:
            sys.exit(f"export_onnx: {args.model}'s outputs lack {missing}")
        module, outputs = torch.jit.script(NamedOutputs(model)), list(PANOPTIC_OUTPUTS)
    else:
        module, outputs = model, ["logits"]

    spatial = {0: "batch", 2: "height", 3: "width"}
    dynamic_axes = {"images": spatial, **{name: spatial for name in outputs}}
    kwargs = {}
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    if (major, minor) >= (2, 5):
        kwargs["dynamo"] = False  # the TorchScript-based exporter; 2.9+ defaults to dynamo
    partial = args.output + ".partial"  # a failed export leaves no half-written file under the name asked for
    torch.onnx.export(module, (example,), partial, input_names=["images"], output_names=outputs,
                      dynamic_axes=dynamic_axes, opset_version=args.opset, do_constant_folding=True, **kwargs)
    os.replace(partial, args.output)

    meta["onnx"] = {"opset": args.opset, "inputs": ["images"], "outputs": outputs,
                    "torch": torch.__version__}
    meta_path = os.path.splitext(args.output)[0] + ".meta.json"
    with open(meta_path + ".partial", "w") as f:
        json.dump(meta, f, indent=2)
    os.replace(meta_path + ".partial", meta_path)
    print(f"wrote {args.output} (opset {args.opset}, outputs {', '.join(outputs)}) and {meta_path}")


if __name__ == "__main__":
    main()
