#!/usr/bin/python3
"""Pillow resize outputs for the native PIL-exact resampler (native/src/image.cc).

Writes test/fixtures/image/resize.safetensors: a 37x53 RGB test image (noise plus flat and
edge regions) and its Pillow resizes for every filter at several sizes, up and down.
Run: /usr/bin/python3 tools/reference/image_resize.py
"""
import os
import sys

import numpy as np
import PIL
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from common import save_safetensors  # noqa: E402

FILTERS = {"nearest": Image.NEAREST, "box": Image.BOX, "bilinear": Image.BILINEAR,
           "hamming": Image.HAMMING, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
SIZES = [(20, 15), (100, 71), (53, 20), (17, 37), (7, 5), (61, 45)]

rng = np.random.default_rng(0)
img = (rng.random((37, 53, 3)) * 255).astype(np.uint8)
img[10:20, 5:40] = 250
img[25:, :, 1] = 3
tensors = {"image": torch.from_numpy(img)}
for name, f in FILTERS.items():
    for w, h in SIZES:
        tensors[f"{name}/{w}x{h}"] = torch.from_numpy(np.asarray(Image.fromarray(img).resize((w, h), f)).copy())
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
save_safetensors(os.path.join(root, "test", "fixtures", "image", "resize.safetensors"), tensors,
                 {"script": "tools/reference/image_resize.py", "pillow": PIL.__version__})
