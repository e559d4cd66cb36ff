#!/usr/bin/python3
"""Reference values for the R50+ViT hybrid's parts, from timm (test/models/hybrid.test.ts):

- TF 'SAME' padding geometry (timm layers/padding.py) over sizes, kernels, strides, dilations;
- StdConv2d / StdConv2dSame / MaxPool2dSame outputs and input/weight/bias grads (random
  cotangent) in float64 on small seeded tensors, odd sizes included;
- the hybrid's ResNetV2 backbone (timm vision_transformer_hybrid._resnetv2((3, 4, 9))) on
  seeded weights written by tools/reference/hybrid-fixtures.ts: feature maps at small even and
  odd input sizes, and the grads of a backward pass (input, first and last norm weights);
- the whole hybrid off its native size, on seeded weights: built for another size (timm's
  `img_size=`) and resampling pos_embed per input (`dynamic_img_size=True`).

Writes test/fixtures/models/hybrid-extra.safetensors. Needs a timm checkout on TIMM_PATH.
Usage (through the runner): TIMM_PATH=... npx tsx tools/reference/hybrid-fixtures.ts
"""
import json
import os
import sys

import torch
from torch.nn.utils.stateless import functional_call

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402

import timm  # noqa: E402
from timm.layers import StdConv2d, StdConv2dSame  # noqa: E402
from timm.layers.pool2d_same import MaxPool2dSame  # noqa: E402
from timm.layers.padding import get_same_padding, is_static_pad  # noqa: E402
from timm.models.vision_transformer_hybrid import _resnetv2  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "models", "hybrid-extra.safetensors")

# name, class, (in, out, kernel), options, input shape [N, C, H, W]
CONV_CASES = [
    ("std_k3", "StdConv2d", (4, 6, 3), dict(), [2, 4, 7, 9]),
    ("std_k3_s2_d2_bias", "StdConv2d", (4, 6, 3), dict(stride=2, dilation=2, bias=True, eps=1e-8), [1, 4, 13, 10]),
    ("std_k1_groups", "StdConv2d", (4, 6, 1), dict(groups=2, padding=1), [1, 4, 5, 6]),
    ("same_k7_s2", "StdConv2dSame", (3, 4, 7), dict(stride=2, eps=1e-8), [1, 3, 11, 14]),
    ("same_k3_s2_odd", "StdConv2dSame", (4, 6, 3), dict(stride=2, eps=1e-8), [1, 4, 9, 7]),
    ("same_k3_s1", "StdConv2dSame", (4, 6, 3), dict(eps=1e-8), [1, 4, 6, 5]),
    ("same_k1_s2", "StdConv2dSame", (4, 6, 1), dict(stride=2, eps=1e-8), [1, 4, 7, 8]),
    ("same_k4_s1_even", "StdConv2dSame", (3, 5, 4), dict(eps=1e-8), [1, 3, 7, 6]),
    ("same_k3_s2_d2_bias", "StdConv2dSame", (4, 6, 3), dict(stride=2, dilation=2, bias=True), [1, 4, 12, 9]),
]
POOL_CASES = [
    ("pool_k3_s2_even", (3, 2), [2, 3, 8, 10]),
    ("pool_k3_s2_odd", (3, 2), [1, 3, 9, 7]),
    ("pool_k2_s2_odd", (2, 2), [1, 2, 5, 7]),
    ("pool_k3_s1", (3, 1), [1, 2, 5, 4]),
]


def same_padding_table():
    rows = []
    for size in list(range(1, 14)) + [112, 113, 224, 383]:
        for k in (1, 2, 3, 4, 7):
            for s in (1, 2, 3):
                for d in (1, 2):
                    total = int(get_same_padding(size, k, s, d))
                    rows.append([size, k, s, d, total // 2, total - total // 2, int(is_static_pad(k, s, d))])
    return torch.tensor(rows, dtype=torch.int32)


def conv_cases(gen, out, specs):
    for name, cls, (cin, cout, k), opts, shape in CONV_CASES:
        layer = {"StdConv2d": StdConv2d, "StdConv2dSame": StdConv2dSame}[cls](cin, cout, k, **opts).double()
        x = (torch.rand(shape, generator=gen) * 4 - 2).double().requires_grad_(True)
        w = torch.randn(layer.weight.shape, generator=gen).double().requires_grad_(True)
        params = {"weight": w}
        if layer.bias is not None:
            params["bias"] = torch.randn(layer.bias.shape, generator=gen).double().requires_grad_(True)
        y = functional_call(layer, params, (x,))
        cot = torch.randn(y.shape, generator=gen).double()
        grads = torch.autograd.grad(y, [x, *params.values()], cot)
        out[f"conv/{name}/x"] = x.detach().float()
        out[f"conv/{name}/out"] = y.detach().float()
        out[f"conv/{name}/cot"] = cot.float()
        out[f"conv/{name}/grad_x"] = grads[0].float()
        for (key, p), g in zip(params.items(), grads[1:]):
            out[f"conv/{name}/{key}"] = p.detach().float()
            out[f"conv/{name}/grad_{key}"] = g.float()
        specs.append({"name": name, "cls": cls, "inChannels": cin, "outChannels": cout, "kernel": k, **opts})


def pool_cases(gen, out, specs):
    for name, (k, s), shape in POOL_CASES:
        x = torch.randn(shape, generator=gen).double().requires_grad_(True)
        y = MaxPool2dSame(k, s)(x)
        cot = torch.randn(y.shape, generator=gen).double()
        (gx,) = torch.autograd.grad(y, [x], cot)
        out[f"pool/{name}/x"] = x.detach().float()
        out[f"pool/{name}/out"] = y.detach().float()
        out[f"pool/{name}/cot"] = cot.float()
        out[f"pool/{name}/grad_x"] = gx.float()
        specs.append({"name": name, "kernel": k, "stride": s})


def backbone_case(job, out):
    weights, _ = load_safetensors(job["weights"])
    inputs, _ = load_safetensors(job["inputs"])
    model = _resnetv2((3, 4, 9))
    model.load_state_dict(weights, strict=True)
    model.eval()
    with torch.no_grad():
        for name in job["forward"]:
            out[f"backbone/{name}"] = model(inputs[name])
    x = inputs[job["backward"]].clone().requires_grad_(True)
    y = model(x)
    y.backward(inputs["backward_cot"])
    out["backbone/grad_input"] = x.grad
    out["backbone/grad_stem_norm"] = model.stem.norm.weight.grad
    out["backbone/grad_last_norm3"] = model.stages[2].blocks[8].norm3.weight.grad
    return sum(p.numel() for p in model.parameters())


def hybrid_case(job, out):
    weights, _ = load_safetensors(job["weights"])
    inputs, _ = load_safetensors(job["inputs"])
    kwargs = {"img_size": job["imgSize"]} if "imgSize" in job else {}
    if job.get("dynamicImgSize"):
        kwargs["dynamic_img_size"] = True
    model = timm.create_model(job["name"], pretrained=False, num_classes=job["numClasses"], **kwargs)
    model.load_state_dict(weights, strict=True)
    model.eval()
    x = inputs["pixel_values"]
    with torch.no_grad():
        out[f"hybrid/{job['id']}/logits"] = model(x)
        out[f"hybrid/{job['id']}/pre_logits"] = model.forward_head(model.forward_features(x), pre_logits=True)
    return sum(p.numel() for p in model.parameters())


def main():
    jobs = {}
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            jobs = json.load(f)
    gen = torch.Generator().manual_seed(0)
    out = {"same_padding": same_padding_table()}
    conv_specs, pool_specs = [], []
    conv_cases(gen, out, conv_specs)
    pool_cases(gen, out, pool_specs)
    meta = {"script": "tools/reference/hybrid_extra.py", "torch": torch.__version__, "timm": timm.__version__, "seed": "0",
            "same_padding_columns": json.dumps(["size", "kernel", "stride", "dilation", "before", "after", "static"]),
            "conv_cases": json.dumps(conv_specs), "pool_cases": json.dumps(pool_specs)}
    if "backbone" in jobs:
        meta["backbone_param_count"] = str(backbone_case(jobs["backbone"], out))
        meta["backbone"] = json.dumps({k: v for k, v in jobs["backbone"].items() if k not in ("weights", "inputs")})
    for job in jobs.get("hybrid", []):
        meta[f"hybrid_{job['id']}_param_count"] = str(hybrid_case(job, out))
    save_safetensors(OUT, {k: v.detach().float() if v.is_floating_point() else v for k, v in out.items()}, meta)
    print(f"wrote {len(out)} tensors to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
