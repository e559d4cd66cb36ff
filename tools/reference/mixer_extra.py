#!/usr/bin/python3
"""Reference values for MLP-Mixer and ConvMixer beyond the parity cases, from timm
(test/models/mixer.test.ts, test/models/convmixer.test.ts):

- timm's pretrained cfgs of every mixer_* and convmixer_* variant (tags in timm's order, the
  untrained ones included, as timm's registry lists them);
- a small MlpMixer's forward_intermediates: all blocks as NCHW maps, and chosen ones normed as
  NLC tokens; and what timm does with an image of another size (it refuses it);
- a small GELU ConvMixer at a size that is not a multiple of its patch: logits and every
  block's output (forward hooks: timm's ConvMixer has no forward_intermediates);
- a small ReLU ConvMixer in training mode: logits, running statistics after the step, grads;
- convmixer_768_32 at a full size that is not a multiple of 7, and what timm does with an image
  smaller than one patch (it refuses it).

Weights and inputs are written by tools/reference/mixer-fixtures.ts. Writes
test/fixtures/models/mixer-extra.safetensors. Needs a timm checkout on TIMM_PATH.
Usage (through the runner): TIMM_PATH=... npx tsx tools/reference/mixer-fixtures.ts
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get("TIMM_PATH", ""))
from common import load_safetensors, save_safetensors  # noqa: E402

import timm  # noqa: E402
from timm.models import get_pretrained_cfg  # noqa: E402
from timm.models._registry import _model_default_cfgs  # noqa: E402
from timm.models.convmixer import ConvMixer  # noqa: E402
from timm.models.mlp_mixer import MlpMixer  # noqa: E402


def pretrained_cfgs():
    cfgs = {}
    for name in timm.list_models("mixer_*") + timm.list_models("convmixer_*"):
        cfgs[name] = []
        for tag in _model_default_cfgs[name].tags:  # timm's order: the first is the default tag
            c = get_pretrained_cfg(f"{name}.{tag}")
            cfgs[name].append({"tag": tag, "hasWeights": c.has_weights, "hubId": c.hf_hub_id, "inputSize": list(c.input_size),
                               "cropPct": c.crop_pct, "interpolation": c.interpolation, "mean": list(c.mean), "std": list(c.std),
                               "numClasses": c.num_classes, "firstConv": c.first_conv, "classifier": c.classifier,
                               "license": c.license, "fixedInputSize": c.fixed_input_size})
    return cfgs


def loaded(model, job):
    weights, _ = load_safetensors(job["weights"])
    model.load_state_dict(weights, strict=True)
    return model, load_safetensors(job["input"])[0]


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the message is what is recorded
        return f"{type(e).__name__}: {e}"
    return ""


def mixer(job, out, meta):
    c = job["config"]
    model, inputs = loaded(MlpMixer(img_size=job["imgSize"], patch_size=c["patchSize"], num_blocks=c["numBlocks"],
                                    embed_dim=c["embedDim"], num_classes=job["numClasses"]), job)
    model.eval()
    x = inputs["x"]
    with torch.no_grad():
        features, maps = model.forward_intermediates(x)
        out["mixer/features"] = features
        for i, t in enumerate(maps):
            out[f"mixer/all/{i}"] = t
        tokens = model.forward_intermediates(x, indices=[0, -1], norm=True, output_fmt="NLC", intermediates_only=True)
        for i, t in enumerate(tokens):
            out[f"mixer/normed/{i}"] = t
        out["mixer/logits"] = model(x)
    meta["mixer_other_size_error"] = error_of(lambda: model(x[:, :, :24, :24]))


def block_outputs(model, x):
    outputs = []
    hooks = [b.register_forward_hook(lambda m, i, o: outputs.append(o)) for b in model.blocks]
    logits = model(x)
    for h in hooks:
        h.remove()
    return logits, outputs


def convmixer_eval(job, out):
    c = job["config"]
    model, inputs = loaded(ConvMixer(dim=c["dim"], depth=c["depth"], kernel_size=c["kernelSize"], patch_size=c["patchSize"],
                                     num_classes=job["numClasses"]), job)
    model.eval()
    with torch.no_grad():
        logits, blocks = block_outputs(model, inputs["x"])
    out["convmixer/logits"] = logits
    for i, t in enumerate(blocks):
        out[f"convmixer/blocks/{i}"] = t


def convmixer_train(job, out):
    c = job["config"]
    act = torch.nn.ReLU if c.get("act") == "relu" else torch.nn.GELU
    model, inputs = loaded(ConvMixer(dim=c["dim"], depth=c["depth"], kernel_size=c["kernelSize"], patch_size=c["patchSize"],
                                     num_classes=job["numClasses"], act_layer=act), job)
    model.train()
    x = inputs["x"].clone().requires_grad_(True)
    logits = model(x)
    (logits * inputs["cotangent"]).sum().backward()
    out["train/logits"] = logits.detach()
    out["train/grad/input"] = x.grad
    named = dict(model.named_parameters())
    for name in job["gradParams"]:
        out[f"train/grad/{name}"] = named[name].grad
    for name, buf in model.named_buffers():
        if name.endswith(("running_mean", "running_var")):
            out[f"train/buffer/{name}"] = buf


def full(job, out, meta):
    model, inputs = loaded(timm.create_model(job["name"], num_classes=job["numClasses"]), job)
    model.eval()
    x = inputs["x"]
    with torch.no_grad():
        out["full/logits"] = model(x)
    meta["convmixer_small_input_error"] = error_of(lambda: model(x[:, :, :6, :6]))


def main(jobs):
    out = {}
    meta = {"script": "tools/reference/mixer_extra.py", "torch": torch.__version__, "timm": timm.__version__,
            "timm_cfgs": json.dumps(pretrained_cfgs())}
    mixer(jobs["mixer"], out, meta)
    convmixer_eval(jobs["convmixer"], out)
    convmixer_train(jobs["convmixerTrain"], out)
    full(jobs["full"], out, meta)
    save_safetensors(jobs["output"], {k: v.detach().float().contiguous() for k, v in out.items()}, meta)
    print(f"wrote {len(out)} tensors to {jobs['output']}", file=sys.stderr)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        main(json.load(f))
