#!/usr/bin/python3
"""Reference outputs for feature-extractor parity: timm's features_only (or the hybrid's ResNetV2
forward_intermediates) on seeded weights and inputs.

Called by tools/reference/features-fixtures.ts with a job file naming, per case, a safetensors
file of weights (our key names = timm's) and one of the input batch. Writes, per case,
test/fixtures/features/<id>.safetensors with level_<k> = the k-th returned level's first
`channels` channels, NCHW (timm's Swin returns NHWC; it is permuted here), and each level's
full shape and timm's feature_info (channels, reduction) in the metadata.

Needs Debian's python3-torch and a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/features.py JOBS.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402


def levels(job, weights, x):
    import timm
    if job.get("part") == "hybrid-stem":
        model = timm.create_model(job["name"], pretrained=False)
        model.load_state_dict(weights, strict=True)
        model.eval()
        backbone = model.patch_embed.backbone
        info = [(i["num_chs"], i["reduction"]) for i in backbone.feature_info]
        indices = job["outIndices"] or list(range(len(info)))
        with torch.no_grad():
            return backbone.forward_intermediates(x, indices=indices, intermediates_only=True), [info[i] for i in indices]
    kwargs = {"out_indices": tuple(job["outIndices"])} if job["outIndices"] else {}
    model = timm.create_model(job["name"], pretrained=False, features_only=True, **kwargs)
    # The extractor's keys are the classifier's with a model. prefix (getter) or flattened stages (list).
    classifier = timm.create_model(job["name"], pretrained=False)
    classifier.load_state_dict(weights, strict=True)
    target = model.model if hasattr(model, "model") else model
    missing, unexpected = [], []
    if hasattr(model, "model"):
        missing, unexpected = target.load_state_dict(classifier.state_dict(), strict=False)
    else:
        flat = {k.replace("layers.", "layers_", 1) if k.startswith("layers.") else k: v for k, v in classifier.state_dict().items()}
        missing, unexpected = model.load_state_dict(flat, strict=False)
    if missing:
        raise SystemExit(f"{job['id']}: features_only model misses {missing[:5]}")
    model.eval()
    info = list(zip(model.feature_info.channels(), model.feature_info.reduction()))
    with torch.no_grad():
        out = model(x)
    if getattr(model, "output_fmt", "NCHW") != "NCHW" or (out and out[0].shape[1] != info[0][0]):
        out = [t.permute(0, 3, 1, 2) for t in out]
    return out, info


def run(job):
    weights, _ = load_safetensors(job["weights"])
    inputs, _ = load_safetensors(job["input"])
    out, info = levels(job, weights, inputs["pixel_values"])
    tensors = {f"level_{k}": t[:, : job["channels"]].contiguous().float() for k, t in enumerate(out)}
    meta = {"script": "tools/reference/features.py", "torch": torch.__version__, "name": job["name"],
            "shapes": json.dumps([list(t.shape) for t in out]), "feature_info": json.dumps(info)}
    save_safetensors(job["output"], tensors, meta)
    print(f"{job['id']}: {[tuple(t.shape) for t in out]}", file=sys.stderr)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        for job in json.load(f):
            run(job)
