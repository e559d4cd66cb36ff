#!/usr/bin/python3
"""Reference outputs for the XCiT checks of test/models/xcit.test.ts.

Called by tools/reference/xcit-fixtures.ts with a job file naming seeded weights and inputs. Writes
test/fixtures/models/xcit-extra.safetensors:
  fourier_raw/<H>x<W>      timm PositionalEncodingFourier(dim=64) with an identity projection: the raw features
  fourier/<H>x<W>          PositionalEncodingFourier(dim=fourierDim) with the seeded projection, one image
  xca/out, xca/grad/<name>           timm XCA on the seeded weights: output, and the gradients of
                                     sum(out * cotangent) w.r.t. the input and the parameters
  xca_zero/out, xca_zero/grad/<name>  the same with q's channel 0 of head 0 all zeros (F.normalize's eps)
  other/logits, other_p8/logits      xcit_nano_12_p16_224 / _p8_224 on a 160x256 batch
  avg/{logits,pre_logits}            xcit_nano_12_p16_224 with global_pool='avg'
  train/logits, train/<buffer>       xcit_nano_12_p16_224 in train mode (batch statistics) and two updated running stats
  inter/<i>, inter/features          forward_intermediates(indices, norm=True), NCHW: each map's first
                                     INTER_CHANNELS channels, the features' first INTER_TOKENS tokens
  official/logits                    a checkpoint in the official layout through timm's checkpoint_filter_fn
and, in its metadata, timm's pretrained cfgs of every XCiT name (timm_cfgs).

Needs Debian's python3-torch and a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/xcit_extra.py JOB.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402

TRAIN_BUFFERS = ["patch_embed.proj.0.1.running_mean", "blocks.3.local_mp.bn.running_var"]
# Kept slices of the intermediates (the fixture stays small): the first channels of each map, the first tokens of the features.
INTER_CHANNELS = 8
INTER_TOKENS = 4


def fourier(job, tensors):
    from timm.models.xcit import PositionalEncodingFourier
    weights, _ = load_safetensors(job["fourier"])
    seeded = PositionalEncodingFourier(hidden_dim=32, dim=job["fourierDim"])
    seeded.load_state_dict(weights, strict=True)
    raw = PositionalEncodingFourier(hidden_dim=32, dim=64)
    with torch.no_grad():
        raw.token_projection.weight.copy_(torch.eye(64).reshape(64, 64, 1, 1))
        raw.token_projection.bias.zero_()
        for h, w in job["grids"]:
            tensors[f"fourier_raw/{h}x{w}"] = raw(1, h, w)
            tensors[f"fourier/{h}x{w}"] = seeded(1, h, w)


def xca(job, inputs, tensors):
    from timm.models.xcit import XCA
    weights, _ = load_safetensors(job["xca"])
    for name, zero in (("xca", False), ("xca_zero", True)):
        w = {k: v.clone() for k, v in weights.items()}
        if zero:
            w["qkv.weight"][0] = 0
            w["qkv.bias"][0] = 0
        layer = XCA(job["xcaDim"], num_heads=job["xcaHeads"], qkv_bias=True)
        layer.fused_attn = False  # the paper's formula, not SDPA (same result)
        layer.load_state_dict(w, strict=True)
        x = inputs["xcaInput"].clone().requires_grad_(True)
        out = layer(x)
        (out * inputs["xcaCotangent"]).sum().backward()
        tensors[f"{name}/out"] = out
        tensors[f"{name}/grad/input"] = x.grad
        for pname, p in layer.named_parameters():
            tensors[f"{name}/grad/{pname}"] = p.grad


def model(name, weights, num_classes, **kwargs):
    import timm
    m = timm.create_model(name, pretrained=False, num_classes=num_classes, **kwargs)
    m.load_state_dict(weights, strict=True)
    return m.eval()


def models(job, inputs, tensors):
    from timm.models.xcit import checkpoint_filter_fn
    nano, _ = load_safetensors(job["nano"])
    nano_p8, _ = load_safetensors(job["nanoP8"])
    n = job["numClasses"]
    x = inputs["input"]
    with torch.no_grad():
        tensors["other/logits"] = model("xcit_nano_12_p16_224", nano, n)(inputs["otherSize"])
        tensors["other_p8/logits"] = model("xcit_nano_12_p8_224", nano_p8, n)(inputs["otherSize"])
        avg = model("xcit_nano_12_p16_224", nano, n, global_pool="avg")
        features = avg.forward_features(x)
        tensors["avg/logits"] = avg.forward_head(features)
        tensors["avg/pre_logits"] = avg.forward_head(features, pre_logits=True)
        plain = model("xcit_nano_12_p16_224", nano, n)
        final, inter = plain.forward_intermediates(x, indices=job["intermediates"], norm=True, output_fmt="NCHW")
        tensors["inter/features"] = final[:, :INTER_TOKENS]
        for i, t in zip(job["intermediates"], inter):
            tensors[f"inter/{i}"] = t[:, :INTER_CHANNELS]
        train = model("xcit_nano_12_p16_224", {k: v.clone() for k, v in nano.items()}, n).train()
        tensors["train/logits"] = train(x)
        state = train.state_dict()
        for b in TRAIN_BUFFERS:
            tensors[f"train/{b}"] = state[b]
        official, _ = load_safetensors(job["official"])
        target = model("xcit_nano_12_p16_224", nano, n)
        target.load_state_dict(checkpoint_filter_fn(dict(official), target), strict=True)
        tensors["official/logits"] = target(x)


def pretrained_cfgs(names):
    from timm.models import get_pretrained_cfg
    from timm.models._registry import _model_default_cfgs
    cfgs = {}
    for name in names:
        cfgs[name] = []
        for tag in _model_default_cfgs[name].tags:  # timm's order: the first is the default tag
            c = get_pretrained_cfg(f"{name}.{tag}")
            cfgs[name].append({"tag": tag, "hubId": c.hf_hub_id, "inputSize": list(c.input_size), "cropPct": c.crop_pct,
                               "interpolation": c.interpolation, "mean": list(c.mean), "std": list(c.std),
                               "numClasses": c.num_classes, "firstConv": c.first_conv, "classifier": c.classifier,
                               "license": c.license, "fixedInputSize": c.fixed_input_size})
    return cfgs


def main(job):
    inputs, _ = load_safetensors(job["inputs"])
    tensors = {}
    fourier(job, tensors)
    xca(job, inputs, tensors)
    models(job, inputs, tensors)
    meta = {"script": "tools/reference/xcit_extra.py", "torch": torch.__version__, "seed": "see test/models/xcit-cases.ts",
            "train_buffers": json.dumps(TRAIN_BUFFERS), "inter_channels": str(INTER_CHANNELS), "inter_tokens": str(INTER_TOKENS),
            "timm_cfgs": json.dumps(pretrained_cfgs(job["names"]))}
    save_safetensors(job["output"], {k: v.detach().float().contiguous() for k, v in tensors.items()}, meta)
    print(f"xcit-extra: {len(tensors)} tensors", file=sys.stderr)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        main(json.load(f))
