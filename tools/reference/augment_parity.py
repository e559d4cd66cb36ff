#!/usr/bin/python3
"""PIL/timm reference outputs for the training augmentations (src/data/augment.ts, mixup.ts).

Writes test/fixtures/augment/augment.safetensors: a 20x24 RGB test image, crop+resize outputs
for fixed RandomResizedCrop boxes, each ColorJitter op (hue also on a 12x12 image of grays,
near-grays and saturated colors) and whole ColorJitter passes for fixed get_params draws, each
timm RandAugment op at fixed arguments (the deterministic cores, NAME_TO_OP with a given level
argument, fill and resample), Image.transform/rotate on an L image and with general matrices,
and timm Mixup/CutMix targets for fixed lam and box.
Run: PYTHONPATH=/work/oracle/timm /usr/bin/python3 tools/reference/augment_parity.py
"""
import json
import os
import sys

import numpy as np
import PIL
import torch
from PIL import Image
import torchvision.transforms.functional as TF
from torchvision import transforms

from timm.data import auto_augment as AA
from timm.data import mixup as MX

sys.path.insert(0, os.path.dirname(__file__))
from common import save_safetensors  # noqa: E402

rng = np.random.default_rng(3)
yy, xx = np.mgrid[0:20, 0:24]
img = np.stack([xx * 10 + yy * 2, yy * 12 + 5, (xx * yy) % 256], -1).astype(np.float64)
img = np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8)
img[3:8, 4:12] = [250, 30, 60]
pil = Image.fromarray(img)
tensors = {"image": torch.from_numpy(img)}
cases = []


def put(name, arr, meta):
    tensors[name] = torch.from_numpy(np.ascontiguousarray(np.asarray(arr)))
    cases.append(dict(name=name, **meta))


# RandomResizedCrop: crop box (top, left, h, w) then resize to (h, w) out.
INTERP = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "nearest": Image.NEAREST}
for (top, left, h, w), size, interp in [((2, 3, 11, 15), (16, 16), "bilinear"), ((0, 0, 20, 24), (9, 13), "bicubic"),
                                         ((5, 7, 6, 9), (17, 11), "bicubic"), ((1, 2, 18, 5), (8, 8), "nearest")]:
    out = TF.resized_crop(pil, top, left, h, w, list(size), interpolation=TF.InterpolationMode(interp))
    put(f"rrc/{len(cases)}", out, dict(kind="rrc", box=[top, left, h, w], size=list(size), interp=interp))

# ColorJitter single ops (torchvision functional on PIL).
for f in [0.0, 0.37, 1.0, 1.6]:
    put(f"cj/brightness/{f}", TF.adjust_brightness(pil, f), dict(kind="op", op="brightness", arg=f))
    put(f"cj/contrast/{f}", TF.adjust_contrast(pil, f), dict(kind="op", op="contrast", arg=f))
    put(f"cj/saturation/{f}", TF.adjust_saturation(pil, f), dict(kind="op", op="saturation", arg=f))

# Hue: grays, near-grays (max - min of 1..3), saturated and dark saturated colors, then noise.
special = [[0, 0, 0], [255, 255, 255], [128, 128, 128], [7, 7, 7], [128, 129, 128], [200, 198, 201], [3, 1, 2], [254, 255, 253],
           [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255], [1, 0, 0], [0, 2, 1],
           [255, 128, 0], [128, 0, 255], [0, 1, 255], [255, 254, 0], [42, 0, 0], [0, 0, 3], [255, 1, 1], [90, 200, 90]]
hue_rng = np.random.default_rng(4)
hue_img = hue_rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
hue_img.reshape(-1, 3)[: len(special)] = special
hue_img[6:9, :, :] = np.clip(hue_img[6:9, :, :1].astype(int) + hue_rng.integers(-2, 3, (3, 12, 3)), 0, 255)
tensors["image_hue"] = torch.from_numpy(hue_img)
hue_pil = Image.fromarray(hue_img)
for f in [-0.5, -0.31, -0.05, -0.002, 0.0, 0.004, 0.02, 0.27, 0.5]:
    put(f"cj/hue/{f}", TF.adjust_hue(pil, f), dict(kind="op", op="hue", arg=f))
    put(f"cj/hue_image/{f}", TF.adjust_hue(hue_pil, f), dict(kind="hue", arg=f))

# Whole ColorJitter passes with get_params' draws fixed: op order (0 b, 1 c, 2 s, 3 h) and factors.
for order, factors in [([3, 0, 2, 1], [1.2, 0.7, 1.4, -0.21]), ([1, 3, 0, 2], [0.8, 1.3, 0.5, 0.33]), ([2, 1, 0, 3], [1.1, None, 0.6, None])]:
    cj = transforms.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.4)
    cj.get_params = lambda *args, order=order, factors=factors: (torch.tensor(order), *factors)
    put(f"cj/pass/{order}", cj(pil), dict(kind="cj", order=order, factors=factors))

# RandAugment op cores at fixed level arguments.
FILL = (124, 116, 104)
OPS = [("AutoContrast", None), ("Equalize", None), ("Invert", None),
       ("Posterize", 1), ("Posterize", 3), ("Solarize", 77), ("Solarize", 200), ("SolarizeAdd", 40), ("SolarizeAdd", 99),
       ("Color", 0.19), ("Color", 1.72), ("Contrast", 0.31), ("Contrast", 1.81), ("Brightness", 0.46), ("Brightness", 1.9),
       ("Sharpness", 0.1), ("Sharpness", 1.9)]
for name, arg in OPS:
    fn = AA.NAME_TO_OP[name]
    out = fn(pil) if arg is None else fn(pil, arg)
    put(f"ra/{name}/{arg}", out, dict(kind="ra", op=name, arg=arg))
AFFINE = [("Rotate", 17.3), ("Rotate", -25.0), ("Rotate", 90.0), ("ShearX", 0.21), ("ShearX", -0.27), ("ShearY", -0.3),
          ("TranslateXRel", 0.3), ("TranslateXRel", -0.41), ("TranslateYRel", 0.17), ("TranslateYRel", -0.25)]
for name, arg in AFFINE:
    for resample in ["nearest", "bilinear", "bicubic"]:
        out = AA.NAME_TO_OP[name](pil, arg, fillcolor=FILL, resample=INTERP[resample])
        put(f"ra/{name}/{arg}/{resample}", out, dict(kind="ra", op=name, arg=arg, resample=resample, fill=list(FILL)))

# Image.transform with general matrices (ScaleAffine, fixed-point and double nearest walks, the
# filters' edge handling) and rotate on an L image, where the filters take one band.
MATRICES = [[1.7, 0, -3.2, 0, 0.6, 2.5], [0.83, -0.41, 4.0, 0.37, 1.21, -6.5], [0.001, 40000.0, -20000.0, 1, 0.5, 3]]
for m in MATRICES:
    for resample in ["nearest", "bilinear", "bicubic"]:
        out = pil.transform(pil.size, Image.AFFINE, tuple(m), resample=INTERP[resample], fillcolor=FILL)
        put(f"affine/{m}/{resample}", out, dict(kind="affine", matrix=m, resample=resample, fill=list(FILL)))
gray = Image.fromarray(img[:17, :13, 0])
tensors["image_gray"] = torch.from_numpy(np.asarray(gray)[..., None].copy())
for angle in [33.3, -90.0]:
    for resample in ["nearest", "bilinear", "bicubic"]:
        out = np.asarray(gray.rotate(angle, resample=INTERP[resample], fillcolor=61))[..., None]
        put(f"rotate_gray/{angle}/{resample}", out, dict(kind="rotate_gray", arg=angle, resample=resample, fill=[61]))

# Mixup / CutMix targets and images for fixed draws.
x = torch.from_numpy(rng.normal(size=(4, 3, 6, 8)).astype(np.float32))
y = torch.tensor([3, 0, 7, 3])
tensors["mix/x"] = x
tensors["mix/y"] = y
for k, (lam, use_cutmix, center, smoothing, correct) in enumerate(
        [(0.7, False, None, 0.1, True), (0.55, True, (4, 2), 0.1, True), (0.3, True, (5, 7), 0.0, False), (0.81, True, (0, 3), 0.2, True)]):
    m = MX.Mixup(mixup_alpha=1.0, cutmix_alpha=1.0, label_smoothing=smoothing, num_classes=10, correct_lam=correct)
    m._params_per_batch = lambda lam=lam, use_cutmix=use_cutmix: (lam, use_cutmix)
    saved = np.random.randint
    draws = list(center or [])
    np.random.randint = lambda lo, hi, size=None: draws.pop(0)
    box = MX.cutmix_bbox_and_lam(x.shape, lam, correct_lam=correct) if use_cutmix else None
    draws.extend(center or [])
    xo, target = m(x.clone(), y.clone())
    np.random.randint = saved
    put(f"mix/{k}/x", xo, dict(kind="mix", lam=lam, cutmix=use_cutmix, center=list(center or []), smoothing=smoothing,
                               correct=correct, box=[int(v) for v in box[0]] if box else None, lam_out=float(box[1]) if box else lam))
    tensors[f"mix/{k}/target"] = target

# 'elem' and 'pair' modes with injected per-element draws (lam, use_cutmix, box center).
for mode, lams, cut, centers in [("elem", [0.625, 1.0, 0.4, 0.7], [False, True, True, False], [(2, 5)]),
                                  ("pair", [0.35, 0.8], [True, False], [(3, 4)])]:
    m = MX.Mixup(mixup_alpha=1.0, cutmix_alpha=1.0, label_smoothing=0.1, num_classes=10, mode=mode)
    m._params_per_elem = lambda bs, lams=lams, cut=cut: (np.array(lams, dtype=np.float32), np.array(cut))
    saved = np.random.randint
    draws = [v for c in centers for v in c]
    np.random.randint = lambda lo, hi, size=None: draws.pop(0)
    xo, target = m(x.clone(), y.clone())
    np.random.randint = saved
    put(f"mix/{mode}/x", xo, dict(kind="mixelem", mode=mode, lams=lams, cutmix=cut, centers=[list(c) for c in centers]))
    tensors[f"mix/{mode}/target"] = target

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
save_safetensors(os.path.join(root, "test", "fixtures", "augment", "augment.safetensors"), tensors,
                 {"script": "tools/reference/augment_parity.py", "pillow": PIL.__version__, "cases": json.dumps(cases)})
print(len(cases), "cases")
