#!/usr/bin/python3
"""Reference decodes and eval preprocessing for src/io/image.ts and src/data/transforms.ts.

Generates small test images in code (gradients, noise, sharp edges; every PIL mode the decoder
must handle) and saves them under test/fixtures/image/, then writes
test/fixtures/image/preprocess.safetensors with what the PIL-based references make of them:
  rgb/<file>, rgba/<file>, l/<file>    Image.open(f).convert(mode) as uint8 [H, W, C]
  exif/<file>                          ImageOps.exif_transpose(Image.open(f)).convert('RGB')
  <pipeline>/<file>                    float32 [3, H, W] from the pipelines below
  crop/input, crop/<h>x<w>             torchvision CenterCrop (incl. zero padding) on a uint8 image
  nearest/input, nearest/<h>x<w>       a uint8 image resized with Image.NEAREST
Pipelines, at small sizes so the fixture stays small (same code paths as the full-size ones):
  timm_bilinear: timm transforms_imagenet_eval(24, crop_pct=0.875, 'bilinear')  on .convert('RGB')
  timm_bicubic:  timm transforms_imagenet_eval(24, crop_pct=0.9, 'bicubic')     on .convert('RGB')
  timm_rect:     timm transforms_imagenet_eval((24, 32), crop_pct=0.9, 'bicubic')
  timm_squash / timm_border: crop_mode 'squash' / 'border', 24, crop_pct 0.9, bicubic
  tv:            torchvision ImageClassification(crop_size=24, resize_size=28)  on .convert('RGB')
  clip:          OpenAI CLIP's _transform(24) on the image as opened (it resizes before
                 converting to RGB, so palette images are resized with NEAREST and RGBA ones
                 in premultiplied alpha, as Pillow does)
Run: PYTHONPATH=/work/oracle/timm /usr/bin/python3 tools/reference/image_preprocess.py
"""
import os
import struct
import sys
import zlib

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image, ImageOps
from torchvision import transforms as T
from torchvision.transforms._presets import ImageClassification

from timm.data.transforms_factory import transforms_imagenet_eval

sys.path.insert(0, os.path.dirname(__file__))
from common import save_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "image")
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

rng = np.random.default_rng(7)


def scene(h, w, channels=3):
    """Gradients plus noise, a flat block with sharp edges and a one-pixel line."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = [x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), (x + y) * 255 / max(h + w - 2, 1), 255 - x * 200 / max(w - 1, 1)]
    img = np.stack(planes[:channels], -1) + rng.normal(0, 18, (h, w, channels))
    img[h // 3: h // 2, w // 4: 3 * w // 4] = [250, 10, 30, 140][:channels]
    img[:, w // 2] = 0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_raw(path, arr, color_type, bit_depth):
    """A PNG written by hand (PIL cannot write 16-bit RGB)."""
    h, w = arr.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    rows = b"".join(b"\x00" + arr[r].astype(dtype).tobytes() for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def gif_lzw(indices):
    """LZW data of 8-bit palette indices, re-clearing often so every code stays 9 bits wide."""
    codes = []
    for i, v in enumerate(indices):
        if i % 250 == 0:
            codes.append(256)
        codes.append(int(v))
    codes.append(257)
    out, acc, nbits = bytearray(), 0, 0
    for c in codes:
        acc |= c << nbits
        nbits += 9
        while nbits >= 8:
            out.append(acc & 255)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 255)
    blocks = b"".join(bytes([len(out[i:i + 255])]) + bytes(out[i:i + 255]) for i in range(0, len(out), 255))
    return b"\x08" + blocks + b"\x00"


def animated_gif(path, screen_w, screen_h, frames, palette, transparent):
    """A GIF whose first frame covers only part of the screen and has a transparent index."""
    data = b"GIF89a" + struct.pack("<HHBBB", screen_w, screen_h, 0xF7, 5, 0) + palette.tobytes()
    data += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for x, y, idx in frames:
        h, w = idx.shape
        data += b"\x21\xf9\x04" + bytes([0x05]) + struct.pack("<H", 2) + bytes([transparent]) + b"\x00"
        data += b"\x2c" + struct.pack("<HHHHB", x, y, w, h, 0) + gif_lzw(idx.reshape(-1))
    with open(path, "wb") as f:
        f.write(data + b"\x3b")


def write_images():
    """Writes the test images; returns their file names."""
    os.makedirs(OUT, exist_ok=True)
    files = {}

    def save(name, img, **kw):
        img.save(os.path.join(OUT, name), **kw)
        files[name] = True

    save("rgb_landscape.png", Image.fromarray(scene(37, 53)))
    save("rgb_portrait.jpg", Image.fromarray(scene(57, 39)), quality=92)
    save("rgb_progressive.jpg", Image.fromarray(scene(26, 34)), quality=85, progressive=True, subsampling=0)
    save("rgb_lossy.webp", Image.fromarray(scene(35, 35)), quality=80)
    save("rgb_small.png", Image.fromarray(scene(15, 21)))
    gray = scene(29, 43)[..., 1]
    save("gray.png", Image.fromarray(gray, "L"))
    save("gray.jpg", Image.fromarray(gray, "L"), quality=90)
    rgba = scene(41, 33, 4)
    rgba[:6, :, 3] = 0
    rgba[-5:, :, 3] = 255
    save("rgba.png", Image.fromarray(rgba, "RGBA"))
    la = np.stack([gray[:20, :24], rgba[:20, :24, 3]], -1)
    save("la.png", Image.fromarray(la, "LA"))
    pal = Image.fromarray(scene(33, 45)).quantize(24)
    save("palette.png", pal, transparency=3)
    save("cmyk.jpg", Image.fromarray(scene(39, 51, 4), "CMYK"), quality=92)
    save("bilevel.png", Image.fromarray(scene(17, 22)).convert("1"))
    exif = Image.Exif()
    exif[0x0112] = 6
    save("exif_rotated.jpg", Image.fromarray(scene(30, 44)), quality=90, exif=exif.tobytes())

    g16 = np.clip(scene(27, 35)[..., 0].astype(np.int64) * 3 + rng.integers(0, 40, (27, 35)), 0, 65535)
    png_raw(os.path.join(OUT, "gray16.png"), g16, 0, 16)
    files["gray16.png"] = True
    rgb16 = scene(23, 31).astype(np.int64) * 257 + rng.integers(0, 257, (23, 31, 3))
    png_raw(os.path.join(OUT, "rgb16.png"), rgb16, 2, 16)
    files["rgb16.png"] = True

    palette = rng.integers(0, 256, (256, 3)).astype(np.uint8)
    frames = [(2, 3, rng.integers(0, 256, (5, 7)).astype(np.uint8))]
    frames += [(0, 0, np.full((10, 12), k, np.uint8)) for k in range(99)]
    animated_gif(os.path.join(OUT, "anim100.gif"), 12, 10, frames, palette, transparent=9)
    files["anim100.gif"] = True
    return list(files)


def u8(img):
    return torch.from_numpy(np.asarray(img).copy())


def clip_transform(n_px):
    """OpenAI CLIP's clip._transform: resize and crop the image as opened, then convert to RGB."""
    return T.Compose([
        T.Resize(n_px, interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(n_px),
        lambda image: image.convert("RGB"),
        T.ToTensor(),
        T.Normalize(CLIP_MEAN, CLIP_STD),
    ])


PIPELINES = {
    "timm_bilinear": (transforms_imagenet_eval(24, crop_pct=0.875, interpolation="bilinear"), True),
    "timm_bicubic": (transforms_imagenet_eval(24, crop_pct=0.9, interpolation="bicubic"), True),
    "timm_rect": (transforms_imagenet_eval((24, 32), crop_pct=0.9, interpolation="bicubic"), True),
    "timm_squash": (transforms_imagenet_eval(24, crop_pct=0.9, crop_mode="squash", interpolation="bicubic"), True),
    "timm_border": (transforms_imagenet_eval(24, crop_pct=0.9, crop_mode="border", interpolation="bicubic"), True),
    "tv": (ImageClassification(crop_size=24, resize_size=28), True),
    "clip": (clip_transform(24), False),
}

RGB_IMAGES = ["rgb_landscape.png", "rgb_portrait.jpg", "rgb_lossy.webp", "rgb_small.png"]
MODE_IMAGES = ["gray.png", "gray16.png", "rgba.png", "la.png", "palette.png", "cmyk.jpg", "bilevel.png", "rgb16.png", "anim100.gif"]
RUNS = {
    "timm_bilinear": RGB_IMAGES + MODE_IMAGES,
    "timm_bicubic": RGB_IMAGES,
    "timm_rect": ["rgb_portrait.jpg", "rgb_landscape.png"],
    "timm_squash": ["rgb_portrait.jpg"],
    "timm_border": ["rgb_portrait.jpg", "rgb_landscape.png"],
    "tv": RGB_IMAGES,
    "clip": RGB_IMAGES + MODE_IMAGES,
}


def main():
    files = write_images()
    tensors = {}
    for name in files:
        path = os.path.join(OUT, name)
        tensors[f"rgb/{name}"] = u8(Image.open(path).convert("RGB"))
        tensors[f"rgba/{name}"] = u8(Image.open(path).convert("RGBA"))
        tensors[f"l/{name}"] = u8(Image.open(path).convert("L"))
    tensors["exif/exif_rotated.jpg"] = u8(ImageOps.exif_transpose(Image.open(os.path.join(OUT, "exif_rotated.jpg"))).convert("RGB"))

    with torch.no_grad():
        for pipeline, names in RUNS.items():
            transform, convert_first = PIPELINES[pipeline]
            for name in names:
                image = Image.open(os.path.join(OUT, name))
                tensors[f"{pipeline}/{name}"] = transform(image.convert("RGB") if convert_first else image).float()

    crop_input = rng.integers(0, 256, (7, 9, 3)).astype(np.uint8)
    tensors["crop/input"] = torch.from_numpy(crop_input)
    for h, w in [(4, 4), (5, 6), (7, 9), (3, 8), (10, 12), (4, 11), (9, 2)]:
        tensors[f"crop/{h}x{w}"] = u8(T.CenterCrop((h, w))(Image.fromarray(crop_input)))

    # 22 -> 31, 33, 55, 77 are sizes where Pillow's accumulated nearest coordinates differ from (x + 0.5) * scale.
    nearest_input = rng.integers(0, 256, (22, 22, 3)).astype(np.uint8)
    tensors["nearest/input"] = torch.from_numpy(nearest_input)
    for h, w in [(31, 33), (33, 31), (55, 77), (7, 5), (22, 35)]:
        tensors[f"nearest/{h}x{w}"] = u8(Image.fromarray(nearest_input).resize((w, h), Image.NEAREST))

    save_safetensors(os.path.join(OUT, "preprocess.safetensors"), tensors, {
        "script": "tools/reference/image_preprocess.py", "pillow": PIL.__version__,
        "torchvision": torchvision.__version__, "torch": torch.__version__,
    })


if __name__ == "__main__":
    main()
