#!/usr/bin/python3
"""Exports a timm model (random weights: speed does not depend on them) to ONNX for the
onnxruntime-node peer of `npm run bench -- models`: opset 17, input 'pixel_values'
[batch, 3, H, W] with a dynamic batch axis, output 'logits'. The file is written atomically.

Needs Debian's python3-torch and a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/export_onnx.py MODEL OUT.onnx
       [--num-classes 1000] [--img-size 224] [--opset 17]
Prints one JSON line on stdout: file, model, torch and timm versions, opset, parameter count.
"""
import argparse
import json
import os
import sys
import warnings

import torch

sys.path.insert(0, os.environ.get("TIMM_PATH", ""))


def explicit_same_padding(model):
    """torch 1.13 cannot export Conv2d(padding='same') (aten::_convolution_mode): give the stride-1,
    odd-kernel convs that use it (ConvMixer's) the equal symmetric padding; the math is unchanged."""
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d) and m.padding == "same":
            if any(s != 1 for s in m.stride) or any(k % 2 == 0 for k in m.kernel_size):
                raise SystemExit(f"export_onnx: cannot make padding='same' explicit for {m}")
            m.padding = tuple(d * (k - 1) // 2 for d, k in zip(m.dilation, m.kernel_size))
            m._reversed_padding_repeated_twice = [p for p in reversed(m.padding) for _ in range(2)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()

    import timm

    torch.manual_seed(0)
    model = timm.create_model(args.model, pretrained=False, num_classes=args.num_classes).eval()
    explicit_same_padding(model)
    example = torch.randn(1, 3, args.img_size, args.img_size)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, tmp, opset_version=args.opset, do_constant_folding=True,
                          input_names=["pixel_values"], output_names=["logits"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}})
    os.replace(tmp, args.out)
    print(json.dumps({"file": args.out, "model": args.model, "torch": torch.__version__, "timm": timm.__version__,
                      "opset": args.opset, "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
