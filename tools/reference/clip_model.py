#!/usr/bin/python3
"""Reference outputs for CLIP parity: runs openai/CLIP's clip.model.CLIP on seeded weights.

Called by tools/reference/clip-fixtures.ts, which writes, per case, the seeded weights (our key
names = OpenAI's) and the inputs (pixel_values, input_ids padded with 0 after EOT as clip.tokenize
does, and a cotangent). This script builds CLIP from its own table of OpenAI's hyperparameters
(those of the released checkpoints, as clip.model.build_model reads them), loads the weights
strictly in float32, and writes to test/fixtures/clip/<case>.safetensors: image_embeds,
text_embeds, logits_per_image, logits_per_text, and for the scalar sum(logits_per_image *
cotangent) the gradient of the pixels on their top-left gradCrop x gradCrop corner (grad/pixels)
and of each named parameter, first gradElements values (grad/<name>); the metadata holds the
reference parameter count. A 'resample' job instead resizes a position table as HF's
interpolate_pos_encoding does (F.interpolate bicubic, align_corners=False, class row kept).

clip/model.py needs no ftfy; it is loaded by path, so clip/__init__.py (which imports ftfy and
packaging) never runs. Needs Debian's python3-torch and an openai/CLIP checkout on CLIP_PATH
(default /work/oracle/clip).
Usage: CLIP_PATH=/path/to/CLIP /usr/bin/python3 tools/reference/clip_model.py JOBS.json
(or rerun everything with: npx tsx tools/reference/clip-fixtures.ts [case-filter...])
"""
import importlib.util
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from common import load_safetensors, save_safetensors  # noqa: E402


def load_clip_module():
    path = os.path.join(os.environ.get("CLIP_PATH", "/work/oracle/clip"), "clip", "model.py")
    spec = importlib.util.spec_from_file_location("openai_clip_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# embed_dim, image_resolution, vision_layers, vision_width, vision_patch_size, text width, heads, layers
# (context length 77 and vocabulary 49408 for all).
VARIANTS = {
    "clip_vit_base_patch32": (512, 224, 12, 768, 32, 512, 8, 12),
    "clip_vit_base_patch16": (512, 224, 12, 768, 16, 512, 8, 12),
    "clip_vit_large_patch14": (768, 224, 24, 1024, 14, 768, 12, 12),
    "clip_vit_large_patch14_336": (768, 336, 24, 1024, 14, 768, 12, 12),
    "clip_rn50": (1024, 224, (3, 4, 6, 3), 64, None, 512, 8, 12),
    "clip_rn101": (512, 224, (3, 4, 23, 3), 64, None, 512, 8, 12),
    "clip_rn50x4": (640, 288, (4, 6, 10, 6), 80, None, 640, 10, 12),
    "clip_rn50x16": (768, 384, (6, 8, 18, 8), 96, None, 768, 12, 12),
    "clip_rn50x64": (1024, 448, (3, 15, 36, 10), 128, None, 1024, 16, 12),
    "clip_vit_tiny_patch8_48": (128, 48, 4, 192, 8, 128, 2, 4),
}


def build(module, name):
    embed, res, vlayers, vwidth, patch, twidth, theads, tlayers = VARIANTS[name]
    return module.CLIP(embed, res, vlayers, vwidth, patch, 77, 49408, twidth, theads, tlayers)


def run_model(module, job):
    weights, _ = load_safetensors(job["weights"])
    inputs, _ = load_safetensors(job["input"])
    model = build(module, job["name"])
    model.load_state_dict(weights, strict=True)
    model.eval()
    pixels, ids, cot = inputs["pixel_values"], inputs["input_ids"], inputs["cotangent"]
    out = {}
    with torch.no_grad():
        out["image_embeds"] = model.encode_image(pixels)
        out["text_embeds"] = model.encode_text(ids)
        out["logits_per_image"], out["logits_per_text"] = model(pixels, ids)
    x = pixels.clone().requires_grad_(True)
    logits, _ = model(x, ids)
    (logits * cot).sum().backward()
    crop = job["gradCrop"]
    out["grad/pixels"] = x.grad[:, :, :crop, :crop]
    named = dict(model.named_parameters())
    for name in job["gradParams"]:
        out[f"grad/{name}"] = named[name].grad.flatten()[: job["gradElements"]]
    params = sum(p.numel() for p in model.parameters())
    meta = {"script": "tools/reference/clip_model.py", "torch": torch.__version__, "reference": "openai/CLIP clip.model.CLIP",
            "variant": job["name"], "param_count": str(params), "seed": str(job["seed"]), "input_seed": str(job["inputSeed"])}
    save_safetensors(job["output"], {**{k: v.float() for k, v in out.items()}, "input_ids": ids}, meta)
    print(f"{job['case']}: {params} params, logits {tuple(out['logits_per_image'].shape)}", file=sys.stderr)


def resample(table, grid):
    side = math.isqrt(table.shape[0] - 1)
    cells = table[1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
    cells = F.interpolate(cells, size=(grid, grid), mode="bicubic", align_corners=False)
    return torch.cat([table[:1], cells.permute(0, 2, 3, 1).reshape(grid * grid, -1)])


def run_resample(job):
    inputs, _ = load_safetensors(job["input"])
    table = inputs["table"]
    out = {"table": table, **{f"grid{g}": resample(table, g) for g in job["grids"]}}
    save_safetensors(job["output"], out, {"script": "tools/reference/clip_model.py", "torch": torch.__version__,
                                          "reference": "F.interpolate bicubic align_corners=False (HF interpolate_pos_encoding)"})
    print(f"{job['case']}: resampled to {job['grids']}", file=sys.stderr)


if __name__ == "__main__":
    clip_module = load_clip_module()
    with open(sys.argv[1]) as f:
        for job in json.load(f):
            if job.get("kind") == "resample":
                run_resample(job)
            else:
                run_model(clip_module, job)
