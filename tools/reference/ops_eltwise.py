#!/usr/bin/python3
"""Fixtures for the unary elementwise ops, activations, softmax and scaled dot-product attention.

Writes test/fixtures/ops/eltwise.safetensors. Run: /usr/bin/python3 tools/reference/ops_eltwise.py
Dropout is not here: torch's RNG cannot be replayed, so test/tensor/eltwise-ops.test.ts checks
its statistics instead.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import Case, Input, run_cases  # noqa: E402

F = torch.nn.functional
INF = float("inf")
cases = []


def given(values, grad=True, dtype=torch.float64):
    t = torch.tensor(values, dtype=dtype)
    return Input(list(t.shape), kind="given", value=t, grad=grad and t.is_floating_point())


# Unary math: small (also in bf16), non-contiguous, odd-sized; positive inputs where the domain needs it.
UNARY = [
    ("neg", torch.neg, "float"), ("exp", torch.exp, "float"), ("log", torch.log, "positive"),
    ("sqrt", torch.sqrt, "positive"), ("rsqrt", torch.rsqrt, "positive"), ("abs", torch.abs, "float"),
    ("sin", torch.sin, "float"), ("cos", torch.cos, "float"), ("erf", torch.erf, "float"),
    ("reciprocal", torch.reciprocal, "positive"),
]
# Ops with a 1031-element case (a partial vector tail past many full ones); the rest use 37.
LONG = {"erf", "gelu", "softmax"}
for op, fn, kind in UNARY:
    cases += [
        Case(f"{op}_small", op, [Input([3, 5], kind=kind)], fn, bf16=True),
        Case(f"{op}_noncontig", op, [Input([4, 6, 5], kind=kind, permute=[2, 0, 1])], fn),
        Case(f"{op}_odd", op, [Input([1031 if op in LONG else 37], kind=kind)], fn),
    ]
cases += [
    Case("exp_wide", "exp", [Input([64], low=-30, high=30)], torch.exp),
    Case("log_wide", "log", [given([1e-6, 0.999, 1.0, 1.001, 7.5, 1e6])], torch.log),
    Case("abs_zero", "abs", [given([-1.5, 0.0, 2.0, 0.0])], torch.abs),
    Case("reciprocal_negative", "reciprocal", [given([-3.0, -0.25, 0.5, 4.0])], torch.reciprocal),
    Case("erf_wide", "erf", [Input([64], low=-5, high=5)], torch.erf),
    Case("sin_wide", "sin", [Input([64], low=-40, high=40)], torch.sin),
    Case("exp_scalar", "exp", [given(0.75)], torch.exp),
    Case("sqrt_empty", "sqrt", [Input([0, 3], kind="positive")], torch.sqrt),
    Case("neg_int", "neg", [Input([3, 4], kind="int", low=-5, high=5)], torch.neg),
    Case("abs_int", "abs", [Input([3, 4], kind="int", low=-5, high=5)], torch.abs),
    Case("exp_int", "exp", [Input([7], kind="int", low=-3, high=3)], torch.exp),
]

# clamp: both bounds, one bound, values exactly on the bounds (grad passes there), min > max, integers.
on_bounds = [-2.0, -0.5, -0.1, 0.0, 0.3, 0.5, 1.9]
cases += [
    Case("clamp_both", "clamp", [Input([4, 7])], lambda x: x.clamp(-0.5, 0.5), kwargs={"min": -0.5, "max": 0.5}, bf16=True),
    Case("clamp_min", "clamp", [Input([4, 7])], lambda x: x.clamp(min=0.25), kwargs={"min": 0.25, "max": None}),
    Case("clamp_max", "clamp", [Input([5, 4], permute=[1, 0])], lambda x: x.clamp(max=-0.25), kwargs={"min": None, "max": -0.25}),
    Case("clamp_on_bounds", "clamp", [given(on_bounds)], lambda x: x.clamp(-0.5, 0.5), kwargs={"min": -0.5, "max": 0.5}),
    Case("clamp_min_above_max", "clamp", [Input([6])], lambda x: x.clamp(1.0, -1.0), kwargs={"min": 1.0, "max": -1.0}),
    Case("clamp_odd", "clamp", [Input([37])], lambda x: x.clamp(-1, 1.5), kwargs={"min": -1, "max": 1.5}),
    Case("clamp_int", "clamp", [Input([3, 4], kind="int", low=-9, high=9)], lambda x: x.clamp(-3, 4), kwargs={"min": -3, "max": 4}),
    Case("clamp_int_fraction", "clamp", [Input([3, 4], kind="int", low=-9, high=9)], lambda x: x.clamp(-2.5, 3.5), kwargs={"min": -2.5, "max": 3.5}),
]

# where: all three broadcast against each other, scalars on either side, non-contiguous.
cases += [
    Case("where_same", "where", [Input([3, 5], kind="bool"), Input([3, 5]), Input([3, 5])], torch.where, bf16=True),
    Case("where_bcast_all", "where", [Input([4, 1, 5], kind="bool"), Input([3, 1]), Input([1, 3, 5])], torch.where),
    Case("where_cond_bcast", "where", [Input([5], kind="bool"), Input([2, 3, 5]), Input([2, 3, 5])], torch.where),
    Case("where_noncontig", "where", [Input([6, 4], kind="bool", permute=[1, 0]), Input([4, 6]), Input([6, 4], permute=[1, 0])], torch.where),
    Case("where_scalar_b", "whereScalarB", [Input([4, 6], kind="bool"), Input([4, 6])], lambda c, a: torch.where(c, a, -1.5), kwargs={"b": -1.5}),
    Case("where_scalar_a", "whereScalarA", [Input([2, 3, 4], kind="bool"), Input([3, 1])], lambda c, b: torch.where(c, 2.0, b), kwargs={"a": 2.0}),
    Case("where_odd", "where", [Input([37], kind="bool"), Input([37]), Input([1])], torch.where),
    Case("where_int", "where", [Input([3, 4], kind="bool"), Input([3, 4], kind="int", low=-9, high=9), Input([4], kind="int", low=-9, high=9)], torch.where),
]

# Activations: every one in bf16 too; exact zeros for the kinks.
ACTIVATIONS = [
    ("relu", torch.relu, {}), ("leakyRelu", lambda x: F.leaky_relu(x, 0.2), {"slope": 0.2}),
    ("gelu", F.gelu, {"approximate": "none"}), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), {"approximate": "tanh"}),
    ("quickGelu", lambda x: x * torch.sigmoid(1.702 * x), {}), ("silu", F.silu, {}),
    ("sigmoid", torch.sigmoid, {}), ("tanh", torch.tanh, {}),
]
for name, fn, kw in ACTIVATIONS:
    op = "gelu" if name.startswith("gelu") else name
    cases += [
        Case(f"{name}_small", op, [Input([3, 5], low=-4, high=4)], fn, kwargs=kw, bf16=True),
        Case(f"{name}_noncontig", op, [Input([2, 6, 5], low=-4, high=4, permute=[2, 1, 0])], fn, kwargs=kw),
        Case(f"{name}_odd", op, [Input([1031 if name in LONG else 37], low=-6, high=6)], fn, kwargs=kw, bf16=True),
    ]
cases += [
    Case("relu_zero", "relu", [given([-1.0, 0.0, 0.0, 2.0])], torch.relu),
    Case("leakyRelu_zero", "leakyRelu", [given([-1.0, 0.0, 2.0])], lambda x: F.leaky_relu(x, 0.1), kwargs={"slope": 0.1}),
    Case("leakyRelu_default", "leakyRelu", [Input([9])], F.leaky_relu, kwargs={}),
    Case("relu_int", "relu", [Input([3, 4], kind="int", low=-5, high=5)], torch.relu),
    Case("sigmoid_wide", "sigmoid", [Input([64], low=-40, high=40)], torch.sigmoid),
    Case("tanh_wide", "tanh", [Input([64], low=-20, high=20)], torch.tanh),
]

# Softmax and log-softmax: each dim, non-contiguous, odd length, -inf entries, a fully masked row (NaN).
masked = [[0.5, -INF, 1.0, -INF], [-INF, -INF, -INF, -INF], [2.0, 1.0, -INF, 0.0]]
for op, fn in [("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)]:
    cases += [
        Case(f"{op}_last", op, [Input([4, 7], low=-5, high=5)], lambda x, fn=fn: fn(x, -1), kwargs={"dim": -1}, bf16=True),
        Case(f"{op}_dim0", op, [Input([6, 5], low=-5, high=5)], lambda x, fn=fn: fn(x, 0), kwargs={"dim": 0}, bf16=True),
        Case(f"{op}_dim1_3d", op, [Input([2, 5, 3], low=-5, high=5)], lambda x, fn=fn: fn(x, 1), kwargs={"dim": 1}),
        Case(f"{op}_noncontig", op, [Input([5, 3, 4], permute=[2, 0, 1])], lambda x, fn=fn: fn(x, -1), kwargs={"dim": -1}),
        Case(f"{op}_odd", op, [Input([1031 if op in LONG else 37], low=-8, high=8)], lambda x, fn=fn: fn(x, 0), kwargs={"dim": 0}, bf16=True),
        Case(f"{op}_neg_inf", op, [given(masked)], lambda x, fn=fn: fn(x, 1), kwargs={"dim": 1}),
        Case(f"{op}_neg_inf_dim0", op, [given(masked)], lambda x, fn=fn: fn(x, 0), kwargs={"dim": 0}),
        Case(f"{op}_large", op, [Input([3, 9], low=-300, high=300)], lambda x, fn=fn: fn(x, -1), kwargs={"dim": -1}),
        Case(f"{op}_scalar", op, [given(1.5)], lambda x, fn=fn: fn(x, 0), kwargs={"dim": 0}),
        Case(f"{op}_empty", op, [Input([0, 4])], lambda x, fn=fn: fn(x, 1), kwargs={"dim": 1}),
    ]


# Scaled dot-product attention: torch 2.x's documented math, written out (torch 1.13 predates the op).
def sdpa(q, k, v, mask=None, causal=False, scale=None):
    L, S = q.shape[-2], k.shape[-2]
    s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * s
    if causal:
        mask = torch.ones(L, S, dtype=torch.bool).tril()
    if mask is not None:
        scores = scores.masked_fill(~mask, -INF) if mask.dtype == torch.bool else scores + mask
    return torch.softmax(scores, -1) @ v


def attend_mask(shape, seed):
    """A random bool mask in which every query may attend at least to key 0."""
    g = torch.Generator().manual_seed(seed)
    m = torch.rand(shape, generator=g) < 0.6
    m[..., 0] = True
    return given(m.tolist(), dtype=torch.bool)


cases += [
    Case("sdpa_basic", "sdpa", [Input([5, 8]), Input([5, 8]), Input([5, 8])], sdpa, bf16=True),
    Case("sdpa_heads", "sdpa", [Input([2, 3, 6, 4]), Input([2, 3, 7, 4]), Input([2, 3, 7, 3])], sdpa, bf16=True),
    Case("sdpa_noncontig", "sdpa", [Input([2, 6, 3, 4], permute=[0, 2, 1, 3]), Input([2, 5, 3, 4], permute=[0, 2, 1, 3]),
                                    Input([2, 5, 3, 4], permute=[0, 2, 1, 3])], sdpa),
    Case("sdpa_bcast_batch", "sdpa", [Input([2, 3, 4, 4]), Input([1, 3, 6, 4]), Input([1, 3, 6, 4])], sdpa),
    Case("sdpa_scale", "sdpa", [Input([2, 4, 8]), Input([2, 5, 8]), Input([2, 5, 8])],
         lambda q, k, v: sdpa(q, k, v, scale=0.3), kwargs={"scale": 0.3}),
    Case("sdpa_causal", "sdpa", [Input([2, 2, 6, 4]), Input([2, 2, 6, 4]), Input([2, 2, 6, 4])],
         lambda q, k, v: sdpa(q, k, v, causal=True), kwargs={"isCausal": True}, bf16=True),
    Case("sdpa_causal_rect", "sdpa", [Input([2, 4, 8]), Input([2, 7, 8]), Input([2, 7, 3])],
         lambda q, k, v: sdpa(q, k, v, causal=True), kwargs={"isCausal": True}),
    Case("sdpa_bool_mask", "sdpaMask", [Input([2, 3, 5, 4]), Input([2, 3, 6, 4]), Input([2, 3, 6, 4]), attend_mask([5, 6], 7)], sdpa),
    Case("sdpa_bool_mask_batch", "sdpaMask", [Input([2, 3, 5, 4]), Input([2, 3, 6, 4]), Input([2, 3, 6, 4]), attend_mask([2, 1, 5, 6], 8)], sdpa),
    Case("sdpa_float_mask", "sdpaMask", [Input([2, 3, 5, 4]), Input([2, 3, 6, 4]), Input([2, 3, 6, 3]), Input([3, 5, 6], low=-3, high=1)], sdpa, bf16=True),
    Case("sdpa_float_mask_inf", "sdpaMask", [Input([4, 8]), Input([3, 8]), Input([3, 8]),
                                             given([[0.0, -INF, 0.5], [-1.0, 0.0, -INF], [-INF, -INF, 0.0], [0.0, 0.0, 0.0]], grad=False)],
         sdpa),
    Case("sdpa_float_mask_scale", "sdpaMask", [Input([3, 4, 16]), Input([3, 9, 16]), Input([3, 9, 2]), Input([1, 9], low=-2, high=0)],
         lambda q, k, v, m: sdpa(q, k, v, m, scale=0.125), kwargs={"scale": 0.125}),
]

if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run_cases(os.path.join(root, "test", "fixtures", "ops", "eltwise.safetensors"), cases, "tools/reference/ops_eltwise.py", seed=2)
