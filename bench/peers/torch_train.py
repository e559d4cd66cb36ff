#!/usr/bin/python3
"""PyTorch peer of `npm run bench -- train`: training steps of one model in one precision, timed
the way bench/train-runner.ts times tsvision's (same TrainSpec in, same events and TrainResult out).

A step: forward in train mode, cross-entropy, backward, AdamW step (lr 1e-3, weight decay 0.05),
zero_grad(set_to_none), loss.item(). float32 is plain f32; bfloat16 is torch.autocast('cpu',
bfloat16) around the forward with f32 parameters (PyTorch's CPU mixed precision), the loss on
f32 logits. Synthetic input and labels made once, random weights.

Models come from timm (a checkout on TIMM_PATH, default /work/oracle/timm); without timm, resnets
come from torchvision. Run by bench/train.ts with Debian's /usr/bin/python3 (python3-torch).
Usage: /usr/bin/python3 bench/peers/torch_train.py '<TrainSpec JSON>'
"""
import json
import os
import resource
import sys
import time
import warnings

sys.path.insert(0, os.environ.get("TIMM_PATH", "/work/oracle/timm"))

PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_MIB


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(event, ms):
    print(json.dumps({"event": event, "ms": ms}), flush=True)


def create_model(name, num_classes):
    """The model and the library that built it: timm, else torchvision for its resnets."""
    try:
        import timm
    except ImportError as e:
        import torchvision

        if not hasattr(torchvision.models, name):
            raise ImportError(f"timm is not importable ({e}) and torchvision has no '{name}'; set TIMM_PATH to a timm checkout")
        return getattr(torchvision.models, name)(num_classes=num_classes), f"torchvision {torchvision.__version__}"
    return timm.create_model(name, pretrained=False, num_classes=num_classes), f"timm {timm.__version__}"


def run(spec):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    model, library = create_model(spec["model"], spec["numClasses"])
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    size = spec["imgSize"]
    x = torch.randn(spec["batch"], 3, size, size)
    y = torch.randint(0, spec["numClasses"], (spec["batch"],))
    bf16 = spec["dtype"] == "bfloat16"

    def step(on_forward):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        on_forward()
        loss = F.cross_entropy(out.float(), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    warmup, steps = spec["warmup"], spec["steps"]
    total = warmup + steps
    warmup_ms, step_ms = [], []
    rss_after_warmup = rss_mib()
    last_loss = float("nan")
    started = time.perf_counter()
    timed_start = started
    for i in range(total):
        if i == warmup:
            rss_after_warmup = rss_mib()
            timed_start = time.perf_counter()
        t0 = time.perf_counter()
        first = [i == 0]

        def on_forward():
            if first[0]:
                emit("forward", (time.perf_counter() - t0) * 1000)
                first[0] = False

        last_loss = step(on_forward)
        ms = (time.perf_counter() - t0) * 1000
        (warmup_ms if i < warmup else step_ms).append(ms)
        emit("step", ms)
        projected = time.perf_counter() - started + ms / 1000 * (total - i - 1)
        if i < total - 1 and projected > spec["maxSeconds"]:
            return {"ok": False, "status": "capped", "projectedSeconds": projected,
                    "reason": f"{warmup}+{steps} steps project {projected:.0f} s at {ms / 1000:.1f} s/step"}
    total_ms = (time.perf_counter() - timed_start) * 1000
    if warmup >= total:
        rss_after_warmup = rss_mib()
    blas = "generic" if "BLAS_INFO=generic" in torch.__config__.show() else "vendor"
    return {"ok": True, "version": f"{torch.__version__} {library}", "blas": blas, "stepMs": step_ms, "totalMs": total_ms,
            "warmupMs": warmup_ms, "peakRssMiB": peak_rss_mib(), "rssAfterWarmupMiB": rss_after_warmup,
            "rssLastMiB": rss_mib(), "lastLoss": last_loss}


def main():
    spec = json.loads(sys.argv[1])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run(spec)
    except ImportError as e:
        result = {"ok": False, "status": "failed", "reason": f"{e} (PyTorch: Debian python3-torch; timm: a checkout on TIMM_PATH)"}
    except Exception as e:  # reported as the row's cell, the bench goes on
        result = {"ok": False, "status": "failed", "reason": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
