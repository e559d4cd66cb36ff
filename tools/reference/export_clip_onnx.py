#!/usr/bin/python3
"""Exports one tower of an openai/CLIP model (random weights: speed does not depend on them) to
ONNX for the onnxruntime-node peer of `npm run bench -- clip`, opset 17, dynamic batch axis:
  image: input 'pixel_values' float32 [batch, 3, R, R] -> output 'image_embeds' (model.encode_image)
  text:  input 'input_ids' int64 [batch, 77]            -> output 'text_embeds'  (model.encode_text)
The model is openai/CLIP's clip.model.CLIP built from the hyperparameter table of clip_model.py.
The file is written atomically.

Needs Debian's python3-torch and an openai/CLIP checkout on CLIP_PATH (default /work/oracle/clip).
Usage: CLIP_PATH=/path/to/CLIP /usr/bin/python3 tools/reference/export_clip_onnx.py NAME image|text OUT.onnx [--opset 17]
Prints one JSON line on stdout: file, model, tower, torch version, opset, parameter count of the tower.
"""
import argparse
import json
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(__file__))
from clip_model import VARIANTS, build, load_clip_module  # noqa: E402


class ImageTower(torch.nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        return self.clip.encode_image(pixel_values)


class TextTower(torch.nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, input_ids):
        return self.clip.encode_text(input_ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", choices=sorted(VARIANTS))
    parser.add_argument("tower", choices=["image", "text"])
    parser.add_argument("out")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()

    torch.manual_seed(0)
    clip = build(load_clip_module(), args.model).float().eval()
    resolution = clip.visual.input_resolution
    if args.tower == "image":
        tower, example, names = ImageTower(clip), torch.randn(1, 3, resolution, resolution), ("pixel_values", "image_embeds")
        params = sum(p.numel() for p in clip.visual.parameters())
    else:
        ids = torch.zeros(1, 77, dtype=torch.long)
        ids[0, :5] = torch.tensor([49406, 320, 1125, 539, 49407])
        tower, example, names = TextTower(clip), ids, ("input_ids", "text_embeds")
        params = sum(p.numel() for n, p in clip.named_parameters() if not n.startswith("visual.") and n != "logit_scale")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(tower, example, tmp, opset_version=args.opset, do_constant_folding=True,
                          input_names=[names[0]], output_names=[names[1]],
                          dynamic_axes={names[0]: {0: "batch"}, names[1]: {0: "batch"}})
    os.replace(tmp, args.out)
    print(json.dumps({"file": args.out, "model": args.model, "tower": args.tower, "torch": torch.__version__,
                      "opset": args.opset, "params": params}))


if __name__ == "__main__":
    main()
