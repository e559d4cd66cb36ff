#!/usr/bin/python3
"""Fixtures for the core ops: binary elementwise, reductions, shape ops, matmul/linear.

Writes test/fixtures/ops/core.safetensors. Run: /usr/bin/python3 tools/reference/ops_core.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import Case, Input, run_cases  # noqa: E402

F = torch.nn.functional
cases = []

# Binary ops: same shape, broadcast both ways, non-contiguous, scalars, odd sizes.
for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div),
               ("maximum", torch.maximum), ("minimum", torch.minimum)]:
    div_safe = "positive" if op == "div" else "float"
    cases += [
        Case(f"{op}_same", op, [Input([3, 5]), Input([3, 5], kind=div_safe)], fn, bf16=True),
        Case(f"{op}_bcast", op, [Input([4, 1, 3]), Input([2, 1], kind=div_safe)], fn),
        Case(f"{op}_noncontig", op, [Input([5, 7], permute=[1, 0]), Input([7, 5], kind=div_safe)], fn),
        Case(f"{op}_odd", op, [Input([1031]), Input([1], kind=div_safe)], fn),
    ]
cases.append(Case("add_alpha", "add", [Input([6]), Input([6])], lambda a, b: torch.add(a, b, alpha=-2.5), kwargs={"alpha": -2.5}))
cases.append(Case("mul_scalar", "mulScalar", [Input([2, 3])], lambda a: a * 1.75, kwargs={"s": 1.75}))
cases.append(Case("pow_tensor", "pow", [Input([4, 3], kind="positive"), Input([3])], torch.pow))
cases.append(Case("pow_scalar", "powScalar", [Input([4, 3], kind="positive")], lambda a: a ** 2.5, kwargs={"e": 2.5}))
ties = torch.tensor([1.0, 2.0, 3.0, 2.0])
cases.append(Case("maximum_ties", "maximum", [Input([4], kind="given", value=ties), Input([4], kind="given", value=torch.tensor([1.0, 0.0, 3.0, 5.0]))], torch.maximum))
for op, fn in [("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)]:
    cases.append(Case(f"{op}_int_bcast", op, [Input([3, 4], kind="int", low=0, high=3), Input([4], kind="int", low=0, high=3)], fn))

# Reductions.
cases += [
    Case("sum_all", "sum", [Input([3, 4, 5])], lambda x: x.sum(), kwargs={"dim": None}, bf16=True),
    Case("sum_dim1", "sum", [Input([3, 4, 5])], lambda x: x.sum(1), kwargs={"dim": 1}),
    Case("sum_dims_keep", "sum", [Input([3, 4, 5])], lambda x: x.sum((0, 2), keepdim=True), kwargs={"dim": [0, 2], "keepdim": True}),
    Case("sum_noncontig", "sum", [Input([6, 5], permute=[1, 0])], lambda x: x.sum(-1), kwargs={"dim": -1}),
    Case("sum_empty", "sum", [Input([0, 3])], lambda x: x.sum(0), kwargs={"dim": 0}),
    Case("mean_dim", "mean", [Input([2, 3, 4])], lambda x: x.mean(-1), kwargs={"dim": -1}, bf16=True),
    Case("mean_all", "mean", [Input([7, 9])], lambda x: x.mean(), kwargs={"dim": None}),
    Case("amax_dims", "amax", [Input([3, 4, 5])], lambda x: x.amax((1, 2)), kwargs={"dim": [1, 2]}),
    Case("amin_dim", "amin", [Input([3, 4])], lambda x: x.amin(0, keepdim=True), kwargs={"dim": 0, "keepdim": True}),
    Case("max_dim", "maxDim", [Input([4, 6])], lambda x: torch.max(x, 1), kwargs={"dim": 1}),
    Case("min_dim_keep", "minDim", [Input([4, 6])], lambda x: torch.min(x, 0, keepdim=True), kwargs={"dim": 0, "keepdim": True}),
    Case("argmax_dim", "argmax", [Input([5, 7], grad=False)], lambda x: x.argmax(1), kwargs={"dim": 1}),
    Case("argmax_all", "argmax", [Input([5, 7], grad=False)], lambda x: x.argmax(), kwargs={"dim": None}),
    Case("argmin_dim", "argmin", [Input([5, 7], grad=False)], lambda x: x.argmin(0), kwargs={"dim": 0}),
    Case("var_dim", "var", [Input([4, 9])], lambda x: x.var(1), kwargs={"dim": 1}),
    Case("var_biased", "var", [Input([4, 9])], lambda x: x.var(1, unbiased=False, keepdim=True), kwargs={"dim": 1, "correction": 0, "keepdim": True}),
    Case("std_all", "std", [Input([4, 9])], lambda x: x.std(), kwargs={"dim": None}),
    Case("logsumexp", "logsumexp", [Input([3, 8], low=-30, high=30)], lambda x: torch.logsumexp(x, 1), kwargs={"dim": 1}),
    Case("norm2", "norm", [Input([3, 8])], lambda x: torch.linalg.vector_norm(x, 2, dim=1), kwargs={"p": 2, "dim": 1}),
    Case("norm1", "norm", [Input([3, 8])], lambda x: torch.linalg.vector_norm(x, 1), kwargs={"p": 1, "dim": None}),
    Case("norm3", "norm", [Input([3, 8])], lambda x: torch.linalg.vector_norm(x, 3, dim=0), kwargs={"p": 3, "dim": 0}),
]

# Shape ops.
cases += [
    Case("reshape", "reshape", [Input([2, 3, 4])], lambda x: x.reshape(4, -1) * 1.0, kwargs={"shape": [4, -1]}),
    Case("reshape_noncontig", "reshape", [Input([4, 6], permute=[1, 0])], lambda x: x.reshape(-1), kwargs={"shape": [-1]}),
    Case("permute", "permute", [Input([2, 3, 4])], lambda x: x.permute(2, 0, 1), kwargs={"dims": [2, 0, 1]}),
    Case("transpose", "transpose", [Input([2, 3, 4])], lambda x: x.transpose(0, 2), kwargs={"d0": 0, "d1": 2}),
    Case("flatten", "flatten", [Input([2, 3, 4, 5])], lambda x: x.flatten(1, 2), kwargs={"start": 1, "end": 2}),
    Case("squeeze", "squeeze", [Input([2, 1, 3, 1])], lambda x: x.squeeze(), kwargs={}),
    Case("unsqueeze", "unsqueeze", [Input([2, 3])], lambda x: x.unsqueeze(-1), kwargs={"dim": -1}),
    Case("expand", "expand", [Input([3, 1])], lambda x: x.expand(2, 3, 4), kwargs={"shape": [2, 3, 4]}),
    Case("narrow", "narrow", [Input([5, 6])], lambda x: x.narrow(1, 2, 3), kwargs={"dim": 1, "start": 2, "length": 3}),
    Case("slice_step", "slice", [Input([9, 4])], lambda x: x[1:8:3], kwargs={"dim": 0, "start": 1, "end": 8, "step": 3}),
    Case("select", "select", [Input([3, 4, 5])], lambda x: x.select(1, -1), kwargs={"dim": 1, "index": -1}),
    Case("cat", "cat", [Input([2, 3]), Input([4, 3]), Input([1, 3])], lambda *xs: torch.cat(xs, 0), kwargs={"dim": 0}),
    Case("cat_noncontig", "cat", [Input([3, 2], permute=[1, 0]), Input([2, 5])], lambda *xs: torch.cat(xs, 1), kwargs={"dim": 1}),
    Case("stack", "stack", [Input([2, 3]), Input([2, 3])], lambda *xs: torch.stack(xs, 1), kwargs={"dim": 1}),
    Case("split", "split", [Input([7, 2])], lambda x: torch.split(x, 3, 0), kwargs={"size": 3, "dim": 0}),
    Case("chunk", "chunk", [Input([2, 10])], lambda x: torch.chunk(x, 3, 1), kwargs={"chunks": 3, "dim": 1}),
    Case("pad_constant", "pad", [Input([2, 3, 4])], lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), kwargs={"pad": [1, 2, 0, 1], "mode": "constant", "value": 0.5}),
    Case("pad_crop", "pad", [Input([2, 5, 6])], lambda x: F.pad(x, (-1, 2, 1, -2)), kwargs={"pad": [-1, 2, 1, -2], "mode": "constant", "value": 0}),
    Case("roll", "roll", [Input([4, 5])], lambda x: torch.roll(x, (1, -2), (0, 1)), kwargs={"shifts": [1, -2], "dims": [0, 1]}),
    Case("roll_flat", "roll", [Input([3, 4])], lambda x: torch.roll(x, 5), kwargs={"shifts": 5}),
    Case("repeat", "repeat", [Input([2, 3])], lambda x: x.repeat(2, 1, 3), kwargs={"repeats": [2, 1, 3]}),
]

# Matmul and linear: 2-D, batched with broadcasting, 1-D operands, transposed operands.
cases += [
    Case("matmul_2d", "matmul", [Input([5, 7]), Input([7, 3])], torch.matmul, bf16=True),
    Case("matmul_batch_bcast", "matmul", [Input([2, 1, 4, 6]), Input([3, 6, 5])], torch.matmul),
    Case("matmul_vec_mat", "matmul", [Input([6]), Input([6, 4])], torch.matmul),
    Case("matmul_mat_vec", "matmul", [Input([3, 6]), Input([6])], torch.matmul),
    Case("matmul_dot", "matmul", [Input([6]), Input([6])], torch.matmul),
    Case("matmul_transposed", "matmul", [Input([7, 5], permute=[1, 0]), Input([3, 7], permute=[1, 0])], torch.matmul),
    Case("matmul_odd", "matmul", [Input([1, 33, 17]), Input([17, 65])], torch.matmul),
    Case("bmm", "bmm", [Input([3, 4, 5]), Input([3, 5, 2])], torch.bmm),
    Case("linear_bias", "linear", [Input([2, 3, 8]), Input([5, 8]), Input([5])], F.linear, bf16=True),
    Case("linear_nobias", "linear", [Input([4, 8]), Input([6, 8])], F.linear),
    Case("linear_noncontig", "linear", [Input([8, 4], permute=[1, 0]), Input([6, 8])], F.linear),
]

if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run_cases(os.path.join(root, "test", "fixtures", "ops", "core.safetensors"), cases, "tools/reference/ops_core.py", seed=1)
