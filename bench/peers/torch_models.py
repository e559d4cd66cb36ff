#!/usr/bin/python3
"""PyTorch peer of `npm run bench -- models`: one model, one batch size, one precision, measured
the way timm's benchmark.py measures inference (random weights, eval, torch.inference_mode,
NCHW, synthetic input created once, warm-up steps, then a timed loop) with the iteration plan
of bench/harness.ts (ThroughputPlan). bfloat16 casts the model and the input (timm's
`--precision bfloat16`): on torch 1.13's CPU backend convolutions and linears then run on oneDNN.

Run by bench/models.ts with Debian's /usr/bin/python3 (python3-torch) and a timm checkout on
TIMM_PATH. Prints one JSON line on stdout: {"ok": true, ...figures} or {"ok": false, "reason"}.
Usage: /usr/bin/python3 bench/peers/torch_models.py '{"model": ..., "batch": ..., "dtype": ...,
       "threads": ..., "imgSize": ..., "numClasses": ..., "plan": {...}}'
"""
import json
import os
import resource
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.environ.get("TIMM_PATH", ""))


def measure_steps(plan, step):
    """bench/harness.ts measureSteps: warm-up, then as many timed steps as fit the budget."""
    budget = plan["budgetSeconds"]
    last, warmup = 0.0, 0
    while warmup < plan["warmup"] and last < budget:
        t0 = time.perf_counter()
        step()
        last = time.perf_counter() - t0
        warmup += 1
    fit = int(budget // last) if last > 0 else plan["maxIterations"]
    affordable = max(1, int(3 * budget // last)) if last > 0 else plan["minIterations"]
    iterations = min(plan["maxIterations"], max(min(plan["minIterations"], affordable), fit))
    steps = []
    start = time.perf_counter()
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        steps.append((time.perf_counter() - t0) * 1000)
    total_ms = (time.perf_counter() - start) * 1000
    return {"warmup": warmup, "iterations": iterations, "totalMs": total_ms,
            "medianStepMs": statistics.median(steps), "meanStepMs": sum(steps) / iterations}


def run(spec):
    import torch
    import timm

    torch.set_num_threads(spec["threads"])
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[spec["dtype"]]
    torch.manual_seed(0)
    model = timm.create_model(spec["model"], pretrained=False, num_classes=spec["numClasses"]).eval().to(dtype)
    size = spec["imgSize"]
    x = torch.randn(spec["batch"], 3, size, size, dtype=dtype)

    def step():
        model(x)

    with torch.inference_mode():
        times = measure_steps(spec["plan"], step)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    blas = "generic" if "BLAS_INFO=generic" in torch.__config__.show() else "vendor"
    return {"ok": True, "version": torch.__version__, "timm": timm.__version__, "blas": blas,
            "peakRssMiB": peak_kib / 1024, **times}


def main():
    spec = json.loads(sys.argv[1])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run(spec)
    except ImportError as e:
        result = {"ok": False, "reason": f"{e} (PyTorch: Debian python3-torch; timm: a checkout on TIMM_PATH)"}
    except Exception as e:  # reported as the row's cell, the bench goes on
        result = {"ok": False, "reason": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
