#!/usr/bin/python3
"""Reference outputs for the MViTv2 checks of test/models/mvitv2.test.ts.

Called by tools/reference/mvitv2-fixtures.ts with a job file naming a seeded mvitv2_tiny checkpoint
(224 px build) and seeded inputs. Writes test/fixtures/models/mvitv2-extra.safetensors:
  relpos/<case>/...       timm cal_rel_pos_type on q, tables and logits generated here (cases in
                          metadata), its output and the autograd of sum(out * cot) w.r.t. q, the
                          tables and the logits; cases with a second length first resample the
                          tables with timm's checkpoint_filter_fn (resized/h, resized/w)
  filter/<key>            rel-pos tables of the 224 px checkpoint after checkpoint_filter_fn for a
                          256 px build
  resized/logits          that 256 px model on a 256 px input
  sizes/<name>/logits     the 224 px model on smaller, non-square inputs
  inter/<i>, inter/features, inter/normed
                          forward_intermediates (NCHW) and its final features; norm=True's last map
and in metadata: which input sides timm takes on the 224 px build, which build sizes run at their
own size, feature_info, and the pretrained cfgs.

Needs Debian's python3-torch and a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/mvitv2_extra.py JOB.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402

# (name, query grid, key grid, table length generated, table length after resampling or None)
REL_POS_CASES = [
    ("stride_kv4", (8, 8), (2, 2), 15, None),
    ("stride_q2", (4, 4), (8, 8), 15, None),
    ("equal", (7, 7), (7, 7), 13, None),
    ("ceil_grids", (7, 5), (4, 3), 13, None),
    ("ratio_13_7", (13, 5), (7, 3), 25, None),
    ("ratio_4_3", (12, 3), (9, 2), 23, None),
    ("q_smaller", (5, 5), (7, 7), 13, None),
    ("interp_up", (8, 8), (2, 2), 9, 15),
    ("interp_down", (4, 4), (8, 8), 31, 15),
]
BATCH, HEADS, DIM = 1, 2, 8


class ShapesOnly:
    """Stands for a model in checkpoint_filter_fn, which reads only its state_dict's shapes."""

    def __init__(self, shapes):
        self.shapes = shapes

    def state_dict(self):
        return {k: torch.empty(s) for k, s in self.shapes.items()}


def resample(table, length):
    from timm.models.mvitv2 import checkpoint_filter_fn
    marker = "stages.0.blocks.0.norm1.weight"  # makes checkpoint_filter_fn treat the dict as timm-native
    sd = {marker: torch.zeros(1), "t.rel_pos_h": table.clone()}
    return checkpoint_filter_fn(sd, ShapesOnly({marker: (1,), "t.rel_pos_h": (length, table.shape[1])}))["t.rel_pos_h"]


def rel_pos_cases(tensors):
    from timm.models.mvitv2 import cal_rel_pos_type
    gen = torch.Generator().manual_seed(0)
    specs = []
    for name, q_size, k_size, length, resized in REL_POS_CASES:
        lq, lk = q_size[0] * q_size[1], k_size[0] * k_size[1]
        q = torch.randn(BATCH, HEADS, lq, DIM, generator=gen)
        h = torch.randn(length, DIM, generator=gen)
        w = torch.randn(length, DIM, generator=gen)
        attn = torch.randn(BATCH, HEADS, lq, lk, generator=gen)
        cot = torch.randn(BATCH, HEADS, lq, lk, generator=gen)
        p = f"relpos/{name}"
        tensors.update({f"{p}/q": q, f"{p}/h": h, f"{p}/w": w, f"{p}/attn": attn, f"{p}/cot": cot})
        if resized:
            h, w = resample(h, resized), resample(w, resized)
            tensors.update({f"{p}/resized/h": h, f"{p}/resized/w": w})
        q, h, w, attn = (t.clone().requires_grad_(True) for t in (q, h, w, attn))
        out = cal_rel_pos_type(attn.clone(), q, False, list(q_size), list(k_size), h, w)
        (out * cot).sum().backward()
        tensors.update({f"{p}/out": out.detach(), f"{p}/grad/q": q.grad, f"{p}/grad/h": h.grad, f"{p}/grad/w": w.grad,
                        f"{p}/grad/attn": attn.grad})
        specs.append({"name": name, "qSize": list(q_size), "kSize": list(k_size), "resized": resized})
    return specs


def pretrained_cfgs(names):
    from timm.models import get_pretrained_cfg
    from timm.models._registry import _model_default_cfgs
    cfgs = {}
    for name in names:
        cfgs[name] = []
        for tag in _model_default_cfgs[name].tags:  # timm's order: the first is the default tag
            c = get_pretrained_cfg(f"{name}.{tag}")
            if not c.has_weights:
                continue
            cfgs[name].append({"tag": tag, "hubId": c.hf_hub_id, "inputSize": list(c.input_size), "cropPct": c.crop_pct,
                               "interpolation": c.interpolation, "mean": list(c.mean), "std": list(c.std),
                               "numClasses": c.num_classes, "firstConv": c.first_conv, "classifier": c.classifier,
                               "license": c.license, "fixedInputSize": c.fixed_input_size})
    return cfgs


def runs(model, h, w):
    try:
        with torch.no_grad():
            model(torch.randn(1, 3, h, w))
        return True
    except IndexError:
        return False


def extra(job):
    import timm
    from timm.models.mvitv2 import checkpoint_filter_fn
    inputs, _ = load_safetensors(job["inputs"])
    weights, _ = load_safetensors(job["weights"])
    n = job["numClasses"]
    tensors = {}
    specs = rel_pos_cases(tensors)

    model = timm.create_model("mvitv2_tiny", pretrained=False, num_classes=n)
    model.load_state_dict(weights, strict=True)
    model.eval()
    with torch.no_grad():
        for size in job["sizes"]:
            tensors[f"sizes/{size['name']}/logits"] = model(inputs[f"sizes/{size['name']}"])
        features, maps = model.forward_intermediates(inputs["intermediates"])
        for i, m in enumerate(maps):
            tensors[f"inter/{i}"] = m
        tensors["inter/features"] = features
        tensors["inter/normed"] = model.forward_intermediates(inputs["intermediates"], indices=[3], norm=True, intermediates_only=True)[0]
    sides = {str(s): runs(model, s, s) for s in job["sides"]}

    big = timm.create_model("mvitv2_tiny", pretrained=False, num_classes=n, img_size=job["resized"]["imgSize"])
    filtered = checkpoint_filter_fn(dict(weights), big)
    for key in job["filterKeys"]:
        tensors[f"filter/{key}"] = filtered[key]
    big.load_state_dict(filtered, strict=True)
    with torch.no_grad():
        tensors["resized/logits"] = big.eval()(inputs["resized"])

    builds = {}
    for size in job["builds"]:
        builds[str(size)] = runs(timm.create_model("mvitv2_tiny", pretrained=False, num_classes=n, img_size=size).eval(), size, size)

    meta = {"script": "tools/reference/mvitv2_extra.py", "torch": torch.__version__, "timm": timm.__version__,
            "rel_pos_cases": json.dumps(specs), "sides": json.dumps(sides), "builds": json.dumps(builds),
            "feature_info": json.dumps(model.feature_info), "timm_cfgs": json.dumps(pretrained_cfgs(job["names"]))}
    save_safetensors(job["output"], {k: v.detach().float().contiguous() for k, v in tensors.items()}, meta)
    print(f"wrote {len(tensors)} tensors to {job['output']}", file=sys.stderr)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        extra(json.load(f))
