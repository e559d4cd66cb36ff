"""Shared helpers for reference fixtures: a dependency-free safetensors writer/reader and
an op-case runner that evaluates torch in float64 and stores inputs, outputs, a random
cotangent and the input gradients, for test/helpers/opcheck.ts to replay.

Run with Debian's interpreter (/usr/bin/python3), which sees python3-torch.
"""
import json
import os
import struct
import sys

import torch

ST_DTYPE = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
            torch.uint8: "U8", torch.bool: "BOOL", torch.bfloat16: "BF16", torch.float16: "F16"}
TORCH_DTYPE = {v: k for k, v in ST_DTYPE.items()}


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors (name -> torch.Tensor) to path, atomically."""
    header, blobs, at = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype == torch.bool:
            raw = t.to(torch.uint8).numpy().tobytes()
        elif t.dtype == torch.bfloat16:
            raw = t.reshape(-1).view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (len(text.encode()) + 8) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text.encode())))
        f.write(text.encode())
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_safetensors(path):
    """Reads a safetensors file into (dict name -> torch.Tensor, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dtype = TORCH_DTYPE[info["dtype"]]
        buf = bytearray(data[base + b:base + e])
        if dtype == torch.bool:
            t = torch.frombuffer(buf, dtype=torch.uint8).to(torch.bool) if buf else torch.empty(0, dtype=torch.bool)
        else:
            t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


class Input:
    """One op input: a base tensor of `shape` (optionally viewed through `permute`).

    kind: 'float' U(low, high), 'positive' U(0.5, 2), 'int' randint(low, high), 'bool', or
    'given' with `value`. grad: whether the input requires grad.
    """

    def __init__(self, shape, kind="float", low=-2.0, high=2.0, permute=None, grad=None, value=None):
        self.shape, self.kind, self.low, self.high = list(shape), kind, low, high
        self.permute, self.value = permute, value
        self.grad = grad if grad is not None else kind in ("float", "positive")

    def make(self, gen):
        if self.kind == "given":
            return self.value.clone()
        if self.kind == "float":
            return torch.rand(self.shape, generator=gen) * (self.high - self.low) + self.low
        if self.kind == "positive":
            return torch.rand(self.shape, generator=gen) * 1.5 + 0.5
        if self.kind == "int":
            return torch.randint(int(self.low), int(self.high), self.shape, generator=gen)
        if self.kind == "bool":
            return torch.rand(self.shape, generator=gen) < 0.5
        raise ValueError(self.kind)


class Case:
    """A named call fn(*inputs); `op` keys the TypeScript op table and `kwargs` are passed to it."""

    def __init__(self, name, op, inputs, fn, kwargs=None, bf16=False, grad=True):
        self.name, self.op, self.inputs, self.fn = name, op, inputs, fn
        self.kwargs, self.bf16, self.grad = kwargs or {}, bf16, grad


def run_cases(out_path, cases, script, seed=0):
    """Evaluates each case in float64 and writes inputs, outputs, cotangents and grads."""
    gen = torch.Generator().manual_seed(seed)
    tensors, specs = {}, []
    names = set()
    for c in cases:
        assert c.name not in names, c.name
        names.add(c.name)
        bases = [i.make(gen) for i in c.inputs]
        views = []
        for j, (spec, base) in enumerate(zip(c.inputs, bases)):
            tensors[f"{c.name}/in{j}"] = base.float() if base.is_floating_point() else base
            v = base.double() if base.is_floating_point() else base
            v = v.permute(*spec.permute) if spec.permute else v
            if spec.grad and c.grad:
                v = v.detach().requires_grad_(True)
            views.append(v)
        out = c.fn(*views)  # kwargs describe the call to the TypeScript side; fn already closes over them
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        grads = []
        for k, o in enumerate(outs):
            tensors[f"{c.name}/out{k}"] = o.detach().float() if o.is_floating_point() else o.detach()
        first = outs[0]
        if c.grad and first.is_floating_point() and first.requires_grad:
            cot = torch.randn(first.shape, generator=gen).double()
            tensors[f"{c.name}/cot0"] = cot.float()
            want = [v for v, s in zip(views, c.inputs) if s.grad]
            got = torch.autograd.grad(first, want, cot.float().double(), allow_unused=True)
            it = iter(got)
            for j, s in enumerate(c.inputs):
                if s.grad:
                    g = next(it)
                    g = torch.zeros_like(views[j]) if g is None else g
                    tensors[f"{c.name}/grad{j}"] = g.float()
                    grads.append(j)
        specs.append({"name": c.name, "op": c.op, "kwargs": c.kwargs, "bf16": c.bf16,
                      "inputs": [{"permute": s.permute, "grad": bool(s.grad and c.grad)} for s in c.inputs],
                      "outputs": len(outs), "grads": grads})
    meta = {"cases": json.dumps(specs), "script": script, "torch": torch.__version__, "seed": str(seed)}
    save_safetensors(out_path, tensors, meta)
    print(f"wrote {len(cases)} cases to {out_path}", file=sys.stderr)
