#!/usr/bin/python3
"""Reference outputs for the ViT/DeiT checks of test/models/vit.test.ts.

Called by tools/reference/vit-fixtures.ts with a job file naming seeded weights and inputs. Writes
test/fixtures/models/vit-extra.safetensors:
  pos/<case>/{in,out}     timm resample_abs_pos_embed on inputs generated here (cases in metadata)
  dynamic/logits          vit_tiny_patch16_224, dynamic_img_size=True, on a 160x256 batch
  resized/logits          vit_tiny_patch16_224, img_size=288, 224 px weights through checkpoint_filter_fn
  avg/{logits,pre_logits} vit_tiny_patch16_224, global_pool='avg' (fc_norm)
  distilled/{head,head_dist}  deit_tiny_distilled_patch16_224 in train mode with distilled training on
  grad/logits, grad/<param>   vit_tiny_patch16_224 autograd of sum(logits * cotangent)
and, per torchvision case, test/fixtures/models/vit-torchvision-<name>.safetensors (logits and
pre-logits of torchvision's model on a checkpoint in torchvision's names, with its key list).

Needs Debian's python3-torch/python3-torchvision and a timm checkout on TIMM_PATH.
Usage: TIMM_PATH=/path/to/timm /usr/bin/python3 tools/reference/vit_extra.py JOB.json
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402

# (name, prefix tokens, old grid, new grid, old_size passed, interpolation, antialias[, dim])
POS_CASES = [
    ("up_aa", 1, (7, 7), (10, 12), False, "bicubic", True),
    ("down_aa", 1, (7, 7), (4, 5), False, "bicubic", True),
    ("big_down_aa", 1, (24, 24), (14, 14), False, "bicubic", True, 2),
    ("up_plain", 1, (7, 7), (10, 12), False, "bicubic", False),
    ("down_plain", 1, (7, 7), (3, 3), False, "bicubic", False),
    ("deit_prefix2", 2, (7, 7), (9, 9), False, "bicubic", True),
    ("bilinear_down_aa", 1, (7, 7), (5, 3), False, "bilinear", True),
    ("bilinear_up_aa", 1, (7, 7), (11, 9), False, "bilinear", True),
    ("no_prefix_rect", 0, (4, 6), (6, 4), True, "bicubic", True),
    ("same_square", 1, (7, 7), (7, 7), False, "bicubic", True),
    ("same_count_rect", 1, (7, 7), (1, 49), False, "bicubic", True),
]


def timm_model(name, weights, num_classes, **kwargs):
    import timm
    model = timm.create_model(name, pretrained=False, num_classes=num_classes, **kwargs)
    model.load_state_dict(weights, strict=True)
    return model


def pos_cases(tensors):
    from timm.layers import resample_abs_pos_embed
    gen = torch.Generator().manual_seed(0)
    specs = []
    for name, prefix, old, new, pass_old, interp, aa, *dim in POS_CASES:
        x = torch.randn(1, prefix + old[0] * old[1], dim[0] if dim else 4, generator=gen)
        y = resample_abs_pos_embed(x, list(new), old_size=list(old) if pass_old else None, num_prefix_tokens=prefix,
                                   interpolation=interp, antialias=aa)
        tensors[f"pos/{name}/in"] = x
        tensors[f"pos/{name}/out"] = y
        specs.append({"name": name, "numPrefixTokens": prefix, "oldSize": list(old) if pass_old else None,
                      "newSize": list(new), "interpolation": interp, "antialias": aa})
    return specs


def pretrained_cfgs(timm_names, tv_names):
    import torchvision
    from timm.models import get_pretrained_cfg
    from timm.models._registry import _model_default_cfgs
    cfgs = {}
    for name in timm_names:
        cfgs[name] = []
        for tag in _model_default_cfgs[name].tags:  # timm's order: the first is the default tag
            c = get_pretrained_cfg(f"{name}.{tag}")
            if not c.has_weights:
                continue
            cfgs[name].append({"tag": tag, "hubId": c.hf_hub_id, "inputSize": list(c.input_size), "cropPct": c.crop_pct,
                               "interpolation": c.interpolation, "mean": list(c.mean), "std": list(c.std),
                               "numClasses": c.num_classes, "firstConv": c.first_conv, "classifier": c.classifier,
                               "license": c.license})
    tv = {}
    for name in tv_names:
        tv[name] = []
        for w in torchvision.models.get_model_weights(name):
            t = w.transforms()
            tv[name].append({"weights": w.name, "minSize": list(w.meta["min_size"]), "numParams": w.meta["num_params"],
                             "crop": t.crop_size[0], "resize": t.resize_size[0], "interpolation": t.interpolation.value,
                             "mean": list(t.mean), "std": list(t.std)})
    return cfgs, tv


def extra(job):
    inputs, _ = load_safetensors(job["inputs"])
    tiny, _ = load_safetensors(job["tiny"])
    tensors = {}
    specs = pos_cases(tensors)

    with torch.no_grad():
        model = timm_model("vit_tiny_patch16_224", tiny, job["numClasses"], dynamic_img_size=True).eval()
        tensors["dynamic/logits"] = model(inputs["dynamicInput"])

        import timm
        from timm.models.vision_transformer import checkpoint_filter_fn
        model = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=job["numClasses"], img_size=job["imgSize"])
        model.load_state_dict(checkpoint_filter_fn(dict(tiny), model), strict=True)
        tensors["resized/logits"] = model.eval()(inputs["resizedInput"])

        avg_weights, _ = load_safetensors(job["tinyAvg"])
        model = timm_model("vit_tiny_patch16_224", avg_weights, job["numClasses"], global_pool="avg").eval()
        x = model.forward_features(inputs["input"])
        tensors["avg/logits"] = model.forward_head(x)
        tensors["avg/pre_logits"] = model.forward_head(x, pre_logits=True)
        avg_params = sum(p.numel() for p in model.parameters())

        dist_weights, _ = load_safetensors(job["distilled"])
        model = timm_model("deit_tiny_distilled_patch16_224", dist_weights, job["numClasses"]).train()
        model.set_distilled_training(True)
        head, head_dist = model(inputs["input"])
        tensors["distilled/head"], tensors["distilled/head_dist"] = head, head_dist

    model = timm_model("vit_tiny_patch16_224", tiny, job["numClasses"]).eval()
    logits = model(inputs["gradInput"])
    (logits * inputs["cotangent"]).sum().backward()
    params = dict(model.named_parameters())
    tensors["grad/logits"] = logits.detach()
    for name in job["gradParams"]:
        tensors[f"grad/{name}"] = params[name].grad
    for name, rows in job["gradRows"].items():
        g = params[name].grad
        tensors[f"grad/{name}"] = g[0, :rows] if name == "pos_embed" else g[:rows]

    cfgs, tv_cfgs = pretrained_cfgs(job["timmNames"], job["torchvisionNames"])
    meta = {"script": "tools/reference/vit_extra.py", "torch": torch.__version__, "timm": __import__("timm").__version__,
            "pos_cases": json.dumps(specs), "avg_param_count": str(avg_params), "timm_cfgs": json.dumps(cfgs),
            "torchvision_cfgs": json.dumps(tv_cfgs)}
    save_safetensors(job["output"], {k: v.detach().float().contiguous() for k, v in tensors.items()}, meta)
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
    model.heads.register_forward_hook(lambda m, inp, out: captured.update(pre_logits=inp[0]))
    with torch.no_grad():
        logits = model(x)
    params = sum(p.numel() for p in model.parameters())
    meta = {"script": "tools/reference/vit_extra.py", "torch": torch.__version__, "torchvision": torchvision.__version__,
            "reference": job["name"], "param_count": str(params), "seed": str(job["seed"]),
            "input_seed": str(job["inputSeed"]), "input_shape": json.dumps(list(x.shape)), "keys": json.dumps(keys)}
    save_safetensors(job["output"], {"logits": logits, "pre_logits": captured["pre_logits"]}, meta)
    print(f"{job['name']}: {params} params, logits {tuple(logits.shape)}", file=sys.stderr)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        job = json.load(f)
    if "extra" in job:
        extra(job["extra"])
    for case in job.get("torchvision", []):
        torchvision_case(case)
