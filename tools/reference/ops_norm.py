#!/usr/bin/python3
"""Fixtures for normalization and interpolation: batch norm (train/eval, running-stat
updates), layer norm, group norm, and F.interpolate in every mode.

Writes test/fixtures/ops/norm.safetensors. Run: /usr/bin/python3 tools/reference/ops_norm.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import Case, Input, run_cases  # noqa: E402

F = torch.nn.functional
cases = []


# Batch norm. Training cases return the output and the updated running stats; the stats
# are inputs without grad, cloned so each run starts from the stored values.
def bn_train(momentum, eps):
    def fn(x, rm, rv, *wb):
        rm, rv = rm.clone(), rv.clone()
        y = F.batch_norm(x, rm, rv, *wb, training=True, momentum=momentum, eps=eps)
        return y, rm, rv
    return fn


def bn_eval(eps):
    return lambda x, rm, rv, *wb: F.batch_norm(x, rm, rv, *wb, training=False, eps=eps)


def stats(c):
    return [Input([c], low=-0.5, high=0.5, grad=False), Input([c], kind="positive", grad=False)]


def affine(c):
    return [Input([c], kind="positive"), Input([c])]


for name, shape, permute, bf16 in [
    ("rank2", [8, 5], None, False),
    ("rank3", [4, 3, 7], None, False),
    ("rank4", [3, 4, 5, 6], None, True),
    ("rank5", [2, 3, 3, 4, 5], None, False),
    ("channels_last", [3, 5, 6, 4], [0, 3, 1, 2], False),
    ("noncontig", [7, 3, 4], [2, 1, 0], False),
    ("single_sample", [1, 3, 4, 4], None, False),
    ("rank6", [2, 3, 2, 2, 3, 2], None, False),
    ("empty", [0, 3, 4], None, False),
]:
    c = shape[permute[1]] if permute else shape[1]
    x = Input(shape, permute=permute)
    cases.append(Case(f"bn_train_{name}", "batchNorm", [x] + stats(c) + affine(c), bn_train(0.1, 1e-5),
                      kwargs={"training": True, "affine": True}, bf16=bf16))
    cases.append(Case(f"bn_eval_{name}", "batchNorm", [x] + stats(c) + affine(c), bn_eval(1e-5),
                      kwargs={"training": False, "affine": True}, bf16=bf16))
cases += [
    Case("bn_train_plain", "batchNorm", [Input([4, 3, 5])] + stats(3), bn_train(0.3, 1e-3),
         kwargs={"training": True, "affine": False, "momentum": 0.3, "eps": 1e-3}),
    Case("bn_eval_plain", "batchNorm", [Input([4, 3, 5])] + stats(3), bn_eval(1e-3),
         kwargs={"training": False, "affine": False, "eps": 1e-3}, bf16=True),
    Case("bn_train_no_stats", "batchNormNoStats", [Input([5, 4, 3])] + affine(4),
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), kwargs={}),
    # Frozen affine parameters: only the input needs a grad.
    Case("bn_train_frozen_affine", "batchNorm", [Input([3, 4, 5])] + stats(4) + [Input([4], kind="positive", grad=False), Input([4], grad=False)],
         bn_train(0.1, 1e-5), kwargs={"training": True, "affine": True}),
    Case("bn_train_frozen_affine_cl", "batchNorm", [Input([2, 3, 3, 4], permute=[0, 3, 1, 2])] + stats(4) + [Input([4], kind="positive", grad=False), Input([4], grad=False)],
         bn_train(0.1, 1e-5), kwargs={"training": True, "affine": True}),
    Case("bn_eval_frozen_affine_2d", "batchNorm", [Input([6, 4])] + stats(4) + [Input([4], kind="positive", grad=False), Input([4], grad=False)],
         bn_eval(1e-5), kwargs={"training": False, "affine": True}),
    Case("bn_train_odd", "batchNorm", [Input([3, 7, 5, 3])] + stats(7) + affine(7), bn_train(0.1, 1e-5),
         kwargs={"training": True, "affine": True}),
]

# Layer norm over one and two trailing dims, with and without weight/bias.
for name, shape, ns, w, b, eps, permute, bf16 in [
    ("last", [4, 10], [10], True, True, 1e-5, None, True),
    ("two_dims", [2, 3, 4, 5], [4, 5], True, True, 1e-5, None, False),
    ("plain", [3, 7], [7], False, False, 1e-5, None, True),
    ("weight_only", [2, 3, 6], [6], True, False, 1e-5, None, False),
    ("bias_only", [2, 3, 6], [3, 6], False, True, 1e-5, None, False),
    ("eps", [5, 8], [8], True, True, 1e-2, None, False),
    ("noncontig", [6, 2, 5], [5], True, True, 1e-5, [1, 0, 2], False),
    ("transposed", [5, 4], [5], True, True, 1e-5, [1, 0], False),
    ("wide", [2, 257], [257], True, True, 1e-5, None, False),
    ("all_dims", [3, 4], [3, 4], True, True, 1e-5, None, False),
    ("empty_rows", [0, 5], [5], True, True, 1e-5, None, False),
]:
    inputs = [Input(shape, permute=permute)]
    if w:
        inputs.append(Input(ns, kind="positive"))
    if b:
        inputs.append(Input(ns))

    def fn(x, *p, ns=ns, w=w, b=b, eps=eps):
        weight = p[0] if w else None
        bias = p[-1] if b else None
        return F.layer_norm(x, ns, weight, bias, eps)
    cases.append(Case(f"ln_{name}", "layerNorm", inputs, fn,
                      kwargs={"shape": ns, "eps": eps, "weight": w, "bias": b}, bf16=bf16))
cases.append(Case("ln_frozen_affine", "layerNorm", [Input([3, 6]), Input([6], kind="positive", grad=False), Input([6], grad=False)],
                  lambda x, w, b: F.layer_norm(x, [6], w, b), kwargs={"shape": [6], "eps": 1e-5, "weight": True, "bias": True}))

# Group norm: several group counts including 1 and C, ranks 2..5, with and without affine.
for name, shape, groups, aff, eps, permute, bf16 in [
    ("g3", [2, 6, 5], 3, True, 1e-5, None, True),
    ("g1", [2, 6, 5], 1, True, 1e-5, None, False),
    ("gC", [2, 6, 5], 6, True, 1e-5, None, False),
    ("rank2", [3, 4], 2, True, 1e-5, None, False),
    ("rank4", [2, 4, 3, 3], 2, True, 1e-3, None, True),
    ("rank5", [2, 4, 2, 3, 2], 4, True, 1e-5, None, False),
    ("plain", [3, 6, 4], 2, False, 1e-5, None, False),
    ("noncontig", [2, 5, 6, 4], 2, True, 1e-5, [0, 3, 1, 2], False),
    ("empty", [0, 4, 3], 2, True, 1e-5, None, False),
]:
    c = shape[permute[1]] if permute else shape[1]
    inputs = [Input(shape, permute=permute)] + (affine(c) if aff else [])

    def fn(x, *p, groups=groups, eps=eps):
        return F.group_norm(x, groups, *p, eps=eps)
    cases.append(Case(f"gn_{name}", "groupNorm", inputs, fn, kwargs={"groups": groups, "eps": eps, "affine": aff}, bf16=bf16))


# Interpolation. torch's nearest indices depend on the dtype's arithmetic; float32 is the
# behaviour to match, so nearest runs in float32 (it only moves values, nothing is lost).
# The *_keep_scale cases (a scale factor whose output size equals the input size) check the
# forward only: torch 1.13's nearest and bicubic backward kernels copy the grad through
# unchanged there, which is not the adjoint of their own forward; ours is.
def interp(mode, size=None, scale=None, align=None):
    def fn(x):
        if mode == "nearest":
            return F.interpolate(x.float(), size=size, scale_factor=scale, mode=mode).double()
        return F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align)
    kwargs = {"mode": mode}
    if size is not None:
        kwargs["size"] = size
    if scale is not None:
        kwargs["scaleFactor"] = scale
    if align is not None:
        kwargs["alignCorners"] = align
    return fn, kwargs


for name, shape, mode, size, scale, align, permute, bf16 in [
    ("nearest1d_up", [2, 3, 4], "nearest", 7, None, None, None, True),
    ("nearest1d_down", [2, 3, 9], "nearest", None, 0.5, None, None, False),
    ("nearest1d_scale", [1, 2, 5], "nearest", None, 1.7, None, None, False),
    ("nearest1d_keep_scale", [1, 2, 6], "nearest", None, 1.1, None, None, False),
    ("nearest2d_up", [2, 2, 4, 3], "nearest", [7, 5], None, None, None, True),
    ("nearest2d_down", [1, 3, 9, 7], "nearest", None, 0.6, None, None, False),
    ("nearest2d_double", [1, 2, 3, 4], "nearest", None, 2.0, None, None, False),
    ("nearest2d_keep_scale", [1, 2, 4, 5], "nearest", None, [1.1, 2.3], None, None, False),
    ("nearest2d_noncontig", [3, 5, 2, 4], "nearest", [6, 2], None, None, [2, 3, 0, 1], False),
    ("nearest3d", [1, 2, 2, 3, 6], "nearest", [3, 5, 4], None, None, None, False),
    ("nearest3d_scale", [1, 1, 4, 3, 2], "nearest", None, [1.5, 0.5, 2.0], None, None, False),
    ("linear_up", [2, 3, 5], "linear", 11, None, False, None, True),
    ("linear_up_align", [2, 3, 5], "linear", 11, None, True, None, False),
    ("linear_down", [2, 2, 13], "linear", 4, None, False, None, False),
    ("linear_down_align", [2, 2, 13], "linear", 4, None, True, None, False),
    ("linear_scale", [1, 2, 6], "linear", None, 1.7, False, None, False),
    ("linear_scale_down", [1, 2, 10], "linear", None, 0.35, False, None, False),
    ("linear_scale_align", [1, 2, 6], "linear", None, 2.5, True, None, False),
    ("linear_keep_scale", [1, 2, 6], "linear", None, 1.1, False, None, False),
    ("linear_to_one_align", [1, 2, 6], "linear", 1, None, True, None, False),
    ("bilinear_up", [2, 3, 5, 4], "bilinear", [8, 7], None, False, None, True),
    ("bilinear_up_align", [2, 3, 5, 4], "bilinear", [8, 7], None, True, None, False),
    ("bilinear_down", [1, 2, 11, 9], "bilinear", [4, 5], None, False, None, False),
    ("bilinear_down_align", [1, 2, 11, 9], "bilinear", [4, 5], None, True, None, False),
    ("bilinear_scale", [1, 2, 4, 6], "bilinear", None, [2.5, 1.5], False, None, False),
    ("bilinear_scale_down", [1, 2, 9, 8], "bilinear", None, 0.5, False, None, False),
    ("bilinear_noncontig", [6, 5, 2, 3], "bilinear", [9, 4], None, False, [2, 3, 0, 1], False),
    ("bicubic_up", [2, 2, 5, 4], "bicubic", [9, 7], None, False, None, True),
    ("bicubic_up_align", [2, 2, 5, 4], "bicubic", [9, 7], None, True, None, False),
    ("bicubic_down", [1, 2, 12, 10], "bicubic", [5, 4], None, False, None, False),
    ("bicubic_down_align", [1, 2, 12, 10], "bicubic", [5, 4], None, True, None, False),
    ("bicubic_scale", [1, 3, 4, 5], "bicubic", None, [1.75, 2.0], False, None, False),
    ("bicubic_keep_scale", [1, 2, 4, 4], "bicubic", None, 1.1, False, None, False),
    ("bicubic_tiny", [1, 1, 2, 1], "bicubic", [5, 3], None, False, None, False),
    ("trilinear_up", [1, 2, 3, 4, 5], "trilinear", [5, 3, 7], None, False, None, True),
    ("trilinear_up_align", [1, 2, 3, 4, 5], "trilinear", [5, 3, 7], None, True, None, False),
    ("trilinear_scale", [2, 1, 4, 5, 3], "trilinear", None, 0.7, False, None, False),
    ("trilinear_scale_align", [1, 1, 3, 2, 4], "trilinear", None, [2.0, 1.5, 0.5], True, None, False),
    ("empty_batch", [0, 2, 4, 4], "bilinear", [3, 5], None, False, None, False),
]:
    fn, kwargs = interp(mode, size, scale, align)
    cases.append(Case(f"interp_{name}", "interpolate", [Input(shape, permute=permute)], fn, kwargs=kwargs, bf16=bf16,
                      grad=not name.endswith("keep_scale") or mode == "linear"))

if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run_cases(os.path.join(root, "test", "fixtures", "ops", "norm.safetensors"), cases, "tools/reference/ops_norm.py", seed=2)
