#!/usr/bin/python3
"""Reference outputs for model parity: runs timm or torchvision on seeded weights and inputs.

Called by tools/reference/model-fixtures.ts, which writes, per model, a safetensors file with
the weights (our key names = the reference's) and one with the input batch. This script
builds the reference model, loads the weights strictly, and writes logits, pre-logits and
the reference parameter count to test/fixtures/models/<name>.safetensors. A job with gradParams
also gets, for the loss sum(logits * cotangent) in eval mode, the input's gradient on its
top-left gradCrop x gradCrop corner (grad/input) and each named parameter's flattened gradient,
first gradElements values (grad/<name>). A job with float64 runs the reference in float64.

Needs Debian's python3-torch/python3-torchvision and a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/models.py JOBS.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402


def build(name, source, num_classes):
    if source == "torchvision":
        import torchvision
        return getattr(torchvision.models, name)(num_classes=num_classes)
    import timm
    return timm.create_model(name, pretrained=False, num_classes=num_classes)


def gradients(model, x, cotangent, job):
    named = dict(model.named_parameters())
    x = x.clone().requires_grad_(True)
    (model(x) * cotangent).sum().backward()
    crop = job["gradCrop"]
    out = {"grad/input": x.grad[:, :, :crop, :crop]}
    for name in job["gradParams"]:
        out[f"grad/{name}"] = named[name].grad.flatten()[: job["gradElements"]]
    return out


def run(job):
    weights, _ = load_safetensors(job["weights"])
    inputs, _ = load_safetensors(job["input"])
    model = build(job["reference"], job.get("source", "timm"), job["numClasses"])
    model.load_state_dict(weights, strict=True)
    model.eval()
    if job.get("float64"):
        model = model.double()
        inputs = {k: v.double() for k, v in inputs.items()}
    x = inputs["pixel_values"]
    out = {}
    with torch.no_grad():
        out["logits"] = model(x)
        if hasattr(model, "forward_features") and hasattr(model, "forward_head"):
            out["pre_logits"] = model.forward_head(model.forward_features(x), pre_logits=True)
    if job.get("gradParams"):
        out.update(gradients(model, x, inputs["cotangent"], job))
    params = sum(p.numel() for p in model.parameters())
    meta = {"script": "tools/reference/models.py", "torch": torch.__version__, "reference": job["reference"],
            "source": job.get("source", "timm"), "param_count": str(params), "seed": str(job["seed"]),
            "input_seed": str(job["inputSeed"]), "input_shape": json.dumps(list(x.shape)),
            "reference_dtype": str(x.dtype).replace("torch.", "")}
    save_safetensors(job["output"], {k: v.float() for k, v in out.items()}, meta)
    print(f"{job['name']}: {params} params, logits {tuple(out['logits'].shape)}", file=sys.stderr)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        for job in json.load(f):
            run(job)
