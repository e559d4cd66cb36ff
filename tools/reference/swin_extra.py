#!/usr/bin/python3
"""Reference outputs for the Swin checks of test/models/swin.test.ts.

Called by tools/reference/swin-fixtures.ts with a job file naming seeded weights and inputs. Writes
test/fixtures/models/swin-extra.safetensors:
  index/<h>x<w>                  timm get_relative_position_index
  mask/<case>                    where timm SwinTransformerBlock.get_attn_mask is -100 (its only other value is 0;
                                 window and shift as timm clips them)
  gather/{x,timm,torchvision}    a grid and its shifted, padded windows by timm's _attn steps and torchvision's
  reverse/{windows,timm,torchvision}  windows put back by each reference's steps
  partition/{x,out}, window_reverse/out  timm window_partition / window_reverse
  resize/<case>/{in,out}         timm resize_rel_pos_bias_table
  padded/logits, padded/grad/... swin_tiny at img_size=256, autograd of sum(logits * cotangent) (input: top-left corner)
  resized/logits                 swin_tiny window_size=12 loading the window-7 checkpoint through checkpoint_filter_fn
  dynamic/logits                 swin_tiny strict_img_size=False on a 228x196 input
  unpooled/{logits,pre_logits}   swin_tiny global_pool='' (head on every position; pre-logits: first channels)
  intermediates/<i>, intermediates/norm3  forward_intermediates (first channels), and norm=True's last level
and, per torchvision case, test/fixtures/models/swin-torchvision-<id>.safetensors (logits and pre-logits
of torchvision's model on a checkpoint in torchvision's names, with its key list).

Needs Debian's python3-torch/python3-torchvision and a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/swin_extra.py JOB.json
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402
from vit_extra import pretrained_cfgs  # noqa: E402

TINY = "swin_tiny_patch4_window7_224"


def timm_model(weights, num_classes, **kwargs):
    import timm
    model = timm.create_model(TINY, pretrained=False, num_classes=num_classes, **kwargs)
    model.load_state_dict(weights, strict=True)
    return model.eval()


def layout_cases(job, tensors):
    from timm.models.swin_transformer import (SwinTransformerBlock, get_relative_position_index, window_partition,
                                              window_reverse)
    for h, w in job["indexWindows"]:
        tensors[f"index/{h}x{w}"] = get_relative_position_index(h, w).to(torch.int32)
    for c in job["maskCases"]:
        block = SwinTransformerBlock(dim=4, input_resolution=tuple(c["grid"]), num_heads=1, window_size=c["window"],
                                     shift_size=c["shift"])
        mask = block.get_attn_mask(dtype=torch.float32)
        assert set(mask.unique().tolist()) <= {0.0, -100.0}, c["name"]
        tensors[f"mask/{c['name']}"] = mask != 0  # where the mask is -100 (stored as bool to keep the fixture small)
    gen = torch.Generator().manual_seed(0)
    g = job["gather"]
    B, H, W, C = g["shape"]
    ws, s = g["window"], g["shift"]
    x = torch.randn(B, H, W, C, generator=gen)
    pad_h, pad_w = (ws[0] - H % ws[0]) % ws[0], (ws[1] - W % ws[1]) % ws[1]
    n = ws[0] * ws[1]
    # timm SwinTransformerBlock._attn: roll, then pad, then partition.
    timm_windows = window_partition(F.pad(torch.roll(x, (-s[0], -s[1]), (1, 2)), (0, 0, 0, pad_w, 0, pad_h)), ws)
    # torchvision shifted_window_attention: pad, then roll the padded grid, then partition.
    tv_windows = window_partition(torch.roll(F.pad(x, (0, 0, 0, pad_w, 0, pad_h)), (-s[0], -s[1]), (1, 2)), ws)
    tensors["gather/x"], tensors["gather/timm"], tensors["gather/torchvision"] = x, timm_windows.reshape(B, -1, n, C), tv_windows.reshape(B, -1, n, C)
    Hp, Wp = H + pad_h, W + pad_w
    windows = torch.randn(B * (Hp // ws[0]) * (Wp // ws[1]), ws[0], ws[1], C, generator=gen)
    grid = window_reverse(windows, ws, Hp, Wp)
    tensors["reverse/windows"] = windows.reshape(B, -1, n, C)
    tensors["reverse/timm"] = torch.roll(grid[:, :H, :W, :], s, (1, 2)).reshape(B, H * W, C)
    tensors["reverse/torchvision"] = torch.roll(grid, s, (1, 2))[:, :H, :W, :].reshape(B, H * W, C)
    part = torch.randn(2, 2 * ws[0], 3 * ws[1], C, generator=gen)
    tensors["partition/x"], tensors["partition/out"] = part, window_partition(part, ws)
    tensors["window_reverse/out"] = window_reverse(window_partition(part, ws) * 2, ws, 2 * ws[0], 3 * ws[1])


def resize_cases(job, tensors):
    from timm.layers import resize_rel_pos_bias_table
    gen = torch.Generator().manual_seed(1)
    for c in job["resizeCases"]:
        table = torch.randn(c["src"] ** 2 + c["extra"], c["heads"], generator=gen)
        h, w = c["window"]
        shape = ((2 * h - 1) * (2 * w - 1) + c["extra"], c["heads"])
        tensors[f"resize/{c['name']}/in"] = table
        tensors[f"resize/{c['name']}/out"] = resize_rel_pos_bias_table(table, new_window_size=(h, w), new_bias_shape=shape)


def model_cases(job, tensors):
    import timm
    from timm.models.swin_transformer import checkpoint_filter_fn
    inputs, _ = load_safetensors(job["inputs"])
    tiny, _ = load_safetensors(job["tiny"])
    k = job["numClasses"]

    model = timm_model(tiny, k, img_size=job["paddedImgSize"])
    x = inputs["paddedInput"].clone().requires_grad_(True)
    logits = model(x)
    (logits * inputs["cotangent"]).sum().backward()
    tensors["padded/logits"] = logits.detach()
    tensors["padded/grad/input"] = x.grad[:, :, :job["gradCrop"], :job["gradCrop"]]
    params = dict(model.named_parameters())
    for name in job["gradParams"]:
        tensors[f"padded/grad/{name}"] = params[name].grad
    for name, rows in job["gradRows"].items():
        tensors[f"padded/grad/{name}"] = params[name].grad[:rows]

    with torch.no_grad():
        model = timm.create_model(TINY, pretrained=False, num_classes=k, window_size=job["resizedWindow"])
        model.load_state_dict(checkpoint_filter_fn(dict(tiny), model), strict=True)
        tensors["resized/logits"] = model.eval()(inputs["resizedInput"])
        tensors["resized/table/layers.2.blocks.1"] = model.layers[2].blocks[1].attn.relative_position_bias_table

        tensors["dynamic/logits"] = timm_model(tiny, k, strict_img_size=False)(inputs["dynamicInput"])
        model = timm_model(tiny, k, global_pool="")
        features = model.forward_features(inputs["input"])
        tensors["unpooled/logits"] = model.forward_head(features)
        tensors["unpooled/pre_logits"] = model.forward_head(features, pre_logits=True)[..., :job["preLogitChannels"]]
        c = job["intermediateChannels"]
        for i, t in enumerate(model.forward_intermediates(inputs["input"], intermediates_only=True)):
            tensors[f"intermediates/{i}"] = t[:, :c]
        last = model.forward_intermediates(inputs["input"], indices=[3], norm=True, intermediates_only=True)[0]
        tensors["intermediates/norm3"] = last[:, :c]


def extra(job):
    tensors = {}
    layout_cases(job, tensors)
    resize_cases(job, tensors)
    model_cases(job, tensors)
    cfgs, tv_cfgs = pretrained_cfgs(job["timmNames"], job["torchvisionNames"])
    meta = {"script": "tools/reference/swin_extra.py", "torch": torch.__version__, "timm": __import__("timm").__version__,
            "timm_cfgs": json.dumps(cfgs), "torchvision_cfgs": json.dumps(tv_cfgs)}
    save_safetensors(job["output"], {k: v.detach().contiguous() if not v.is_floating_point() else v.detach().float().contiguous()
                                     for k, v in tensors.items()}, meta)
    print(f"wrote {len(tensors)} tensors to {job['output']}", file=sys.stderr)


def torchvision_case(job):
    import torchvision
    weights, _ = load_safetensors(job["weights"])
    x = load_safetensors(job["input"])[0]["pixel_values"]
    model = getattr(torchvision.models, job["name"])(num_classes=job["numClasses"])
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    model.load_state_dict(weights, strict=True)
    model.eval()
    captured = {}
    model.head.register_forward_hook(lambda m, inp, out: captured.update(pre_logits=inp[0]))
    with torch.no_grad():
        logits = model(x)
    params = sum(p.numel() for p in model.parameters())
    meta = {"script": "tools/reference/swin_extra.py", "torch": torch.__version__, "torchvision": torchvision.__version__,
            "reference": job["name"], "param_count": str(params), "seed": str(job["seed"]),
            "input_seed": str(job["inputSeed"]), "input_shape": json.dumps(list(x.shape)), "keys": json.dumps(keys)}
    save_safetensors(job["output"], {"logits": logits, "pre_logits": captured["pre_logits"]}, meta)
    print(f"{job['id']}: {params} params, logits {tuple(logits.shape)}", file=sys.stderr)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        job = json.load(f)
    if "extra" in job:
        extra(job["extra"])
    for case in job.get("torchvision", []):
        torchvision_case(case)
