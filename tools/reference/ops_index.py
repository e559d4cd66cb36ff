#!/usr/bin/python3
"""Fixtures for the index ops (index_select, gather, scatter_add, index_add, masked_fill,
embedding) and for the shape ops built on them (pad reflect/replicate/circular, tril, triu).

Writes test/fixtures/ops/index.safetensors. Run: /usr/bin/python3 tools/reference/ops_index.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from common import Case, Input, run_cases  # noqa: E402

F = torch.nn.functional


def ids(values, dtype=torch.int64):
    """An index input with fixed values (never requires grad)."""
    t = torch.tensor(values, dtype=dtype)
    return Input(list(t.shape), kind="given", value=t, grad=False)


def const(t, grad=False):
    return Input(list(t.shape), kind="given", value=t, grad=grad)


cases = []

# index_select: repeated indices (grads accumulate), int32 and int64 indices, every dim,
# non-contiguous input, 0-D and empty indices.
cases += [
    Case("index_select_dim0_repeat", "indexSelect", [Input([4, 3]), ids([3, 0, 3, 3, 1])],
         lambda x, i: torch.index_select(x, 0, i), kwargs={"dim": 0}, bf16=True),
    Case("index_select_dim1_int32", "indexSelect", [Input([2, 5, 3]), ids([4, 0, 2, 0], torch.int32)],
         lambda x, i: torch.index_select(x, 1, i), kwargs={"dim": 1}),
    Case("index_select_last_noncontig", "indexSelect", [Input([6, 3, 2], permute=[2, 1, 0]), ids([5, 1, 1])],
         lambda x, i: torch.index_select(x, -1, i), kwargs={"dim": -1}),
    Case("index_select_scalar_index", "indexSelect", [Input([5, 2]), ids(3)],
         lambda x, i: torch.index_select(x, 0, i), kwargs={"dim": 0}),
    Case("index_select_empty_index", "indexSelect", [Input([3, 4]), ids([])],
         lambda x, i: torch.index_select(x, 1, i), kwargs={"dim": 1}),
    Case("index_select_odd", "indexSelect", [Input([13, 33]), Input([17], kind="int", low=0, high=13, grad=False)],
         lambda x, i: torch.index_select(x, 0, i), kwargs={"dim": 0}),
]

# gather: index smaller than the input outside dim, repeated indices, int32 index,
# non-contiguous input, 3-D.
cases += [
    Case("gather_dim0", "gather", [Input([3, 4]), ids([[2, 0, 2, 1], [0, 0, 1, 2]])],
         lambda x, i: torch.gather(x, 0, i), kwargs={"dim": 0}, bf16=True),
    Case("gather_dim1_smaller", "gather", [Input([3, 5]), ids([[4, 4, 0], [1, 2, 1]])],
         lambda x, i: torch.gather(x, 1, i), kwargs={"dim": 1}),
    Case("gather_3d_mid_int32", "gather", [Input([3, 4, 5]), ids([[[3, 0], [1, 1], [2, 3]], [[0, 0], [3, 2], [1, 0]]], torch.int32)],
         lambda x, i: torch.gather(x, 1, i.long()), kwargs={"dim": 1}),
    Case("gather_last_noncontig", "gather", [Input([5, 4], permute=[1, 0]), Input([4, 7], kind="int", low=0, high=5, grad=False)],
         lambda x, i: torch.gather(x, -1, i), kwargs={"dim": -1}),
]

# scatter_add: repeated targets, src larger than index (only the index-sized block counts;
# torch's own backward rejects that shape, so the reference slices src explicitly), 3-D,
# non-contiguous input, integer data.
cases += [
    Case("scatter_add_dim0", "scatterAdd", [Input([3, 4]), ids([[2, 0, 2, 1], [2, 0, 1, 1]]), Input([2, 4])],
         lambda x, i, s: torch.scatter_add(x, 0, i, s), kwargs={"dim": 0}, bf16=True),
    Case("scatter_add_src_larger", "scatterAdd", [Input([3, 5]), ids([[4, 4, 0], [1, 2, 1]]), Input([3, 4])],
         lambda x, i, s: torch.scatter_add(x, 1, i, s[:2, :3]), kwargs={"dim": 1}),
    Case("scatter_add_3d_last_noncontig", "scatterAdd",
         [Input([4, 2, 3], permute=[1, 2, 0]), Input([2, 3, 6], kind="int", low=0, high=4, grad=False), Input([2, 3, 6])],
         lambda x, i, s: torch.scatter_add(x, -1, i, s), kwargs={"dim": -1}),
    Case("scatter_add_int64", "scatterAdd",
         [Input([3, 3], kind="int", low=-5, high=5), ids([[0, 1, 2], [0, 0, 0]]), Input([2, 3], kind="int", low=-5, high=5)],
         lambda x, i, s: torch.scatter_add(x, 0, i, s), kwargs={"dim": 0}),
]

# index_add: repeated targets, middle dim of 3-D, non-contiguous src, int32 index, int data,
# a wide last dim (the chunked path of the kernel).
cases += [
    Case("index_add_dim0_repeat", "indexAdd", [Input([4, 3]), ids([3, 0, 3, 3, 1]), Input([5, 3])],
         lambda x, i, s: torch.index_add(x, 0, i, s), kwargs={"dim": 0}, bf16=True),
    Case("index_add_dim1_noncontig_src", "indexAdd", [Input([2, 4, 3]), ids([1, 1, 3], torch.int32), Input([3, 3, 2], permute=[2, 0, 1])],
         lambda x, i, s: torch.index_add(x, 1, i, s), kwargs={"dim": 1}),
    Case("index_add_last", "indexAdd", [Input([3, 4]), ids([0, 3, 0, 0, 2, 3]), Input([3, 6])],
         lambda x, i, s: torch.index_add(x, -1, i, s), kwargs={"dim": -1}),
    Case("index_add_wide", "indexAdd", [Input([5, 70]), Input([12], kind="int", low=0, high=5, grad=False), Input([12, 70])],
         lambda x, i, s: torch.index_add(x, 0, i, s), kwargs={"dim": 0}),
    Case("index_add_int32_data", "indexAdd",
         [Input([4, 2], kind="given", value=torch.arange(8, dtype=torch.int32).reshape(4, 2)), ids([1, 1, 2]),
          Input([3, 2], kind="given", value=torch.tensor([[1, 2], [3, 4], [5, 6]], dtype=torch.int32))],
         lambda x, i, s: torch.index_add(x, 0, i, s), kwargs={"dim": 0}),
]

# masked_fill: same shape, mask broadcast to x, x broadcast to mask, -inf (attention masks),
# non-contiguous x, integer and bool data.
bool_mask = torch.tensor([[True, False, False, True], [False, False, True, True], [True, True, False, False]])
cases += [
    Case("masked_fill_same", "maskedFill", [Input([3, 4]), const(bool_mask)],
         lambda x, m: x.masked_fill(m, 0.5), kwargs={"value": 0.5}, bf16=True),
    Case("masked_fill_mask_bcast", "maskedFill", [Input([2, 3, 4]), const(torch.tensor([[True], [False], [True]]))],
         lambda x, m: x.masked_fill(m, -2.0), kwargs={"value": -2.0}),
    Case("masked_fill_x_bcast", "maskedFill", [Input([4]), const(bool_mask)],
         lambda x, m: x.masked_fill(m, 3.0), kwargs={"value": 3.0}),
    Case("masked_fill_neg_inf_noncontig", "maskedFill", [Input([4, 3], permute=[1, 0]), const(bool_mask)],
         lambda x, m: x.masked_fill(m, float("-inf")), kwargs={"value": "-Infinity"}),
    Case("masked_fill_int64", "maskedFill", [Input([3, 4], kind="int", low=-9, high=9), const(bool_mask)],
         lambda x, m: x.masked_fill(m, 7), kwargs={"value": 7}),
    Case("masked_fill_bool", "maskedFill", [Input([3, 4], kind="bool"), const(bool_mask)],
         lambda x, m: x.masked_fill(m, 1), kwargs={"value": 1}),
]

# embedding: repeated ids (row grads accumulate), int32 ids, 0-D and 3-D ids,
# non-contiguous weight, padding_idx positive and negative.
cases += [
    Case("embedding_repeat", "embedding", [ids([[0, 2, 2], [4, 2, 0]]), Input([5, 4])],
         lambda i, w: F.embedding(i, w), bf16=True),
    Case("embedding_int32_3d", "embedding", [ids([[[1, 1], [0, 3]], [[3, 3], [2, 1]]], torch.int32), Input([4, 3])],
         lambda i, w: F.embedding(i, w)),
    Case("embedding_scalar_id", "embedding", [ids(2), Input([3, 5])], lambda i, w: F.embedding(i, w)),
    Case("embedding_noncontig_weight", "embedding", [ids([4, 0, 1, 4]), Input([3, 5], permute=[1, 0])],
         lambda i, w: F.embedding(i, w)),
    Case("embedding_padding_idx", "embedding", [ids([[0, 1, 2], [1, 1, 3]]), Input([4, 3])],
         lambda i, w: F.embedding(i, w, padding_idx=1), kwargs={"paddingIdx": 1}),
    Case("embedding_padding_idx_neg", "embedding", [ids([3, 0, 3, 2]), Input([4, 3])],
         lambda i, w: F.embedding(i, w, padding_idx=-1), kwargs={"paddingIdx": -1}),
    Case("embedding_odd", "embedding", [Input([5, 7], kind="int", low=0, high=20, grad=False), Input([20, 37])],
         lambda i, w: F.embedding(i, w)),
]

# pad (shape.ts, built on index_select): reflect, replicate and circular, the shapes torch accepts.
cases += [
    Case("pad_reflect_1d", "pad", [Input([2, 3, 6])], lambda x: F.pad(x, (2, 1), mode="reflect"),
         kwargs={"pad": [2, 1], "mode": "reflect"}, bf16=True),
    Case("pad_reflect_2d", "pad", [Input([1, 2, 4, 5])], lambda x: F.pad(x, (1, 3, 3, 2), mode="reflect"),
         kwargs={"pad": [1, 3, 3, 2], "mode": "reflect"}),
    Case("pad_reflect_noncontig", "pad", [Input([5, 4, 2], permute=[2, 1, 0])], lambda x: F.pad(x, (0, 4, 1, 1), mode="reflect"),
         kwargs={"pad": [0, 4, 1, 1], "mode": "reflect"}),
    Case("pad_replicate_1d", "pad", [Input([2, 3, 4])], lambda x: F.pad(x, (3, 1), mode="replicate"),
         kwargs={"pad": [3, 1], "mode": "replicate"}),
    Case("pad_replicate_2d", "pad", [Input([2, 1, 3, 4])], lambda x: F.pad(x, (2, 0, 1, 4), mode="replicate"),
         kwargs={"pad": [2, 0, 1, 4], "mode": "replicate"}),
    Case("pad_replicate_3d", "pad", [Input([1, 2, 2, 3, 2])], lambda x: F.pad(x, (1, 1, 0, 2, 3, 0), mode="replicate"),
         kwargs={"pad": [1, 1, 0, 2, 3, 0], "mode": "replicate"}),
    Case("pad_circular_1d", "pad", [Input([2, 2, 5])], lambda x: F.pad(x, (2, 3), mode="circular"),
         kwargs={"pad": [2, 3], "mode": "circular"}),
    Case("pad_circular_2d", "pad", [Input([1, 2, 4, 5])], lambda x: F.pad(x, (1, 2, 3, 1), mode="circular"),
         kwargs={"pad": [1, 2, 3, 1], "mode": "circular"}),
]

# tril / triu (shape.ts, built on where): diagonals 0, positive, negative, beyond the matrix;
# batched and non-contiguous input; integer data.
cases += [
    Case("tril_0", "tril", [Input([4, 5])], lambda x: torch.tril(x), kwargs={"diagonal": 0}, bf16=True),
    Case("tril_pos", "tril", [Input([4, 5])], lambda x: torch.tril(x, 2), kwargs={"diagonal": 2}),
    Case("tril_neg_batch", "tril", [Input([2, 3, 4])], lambda x: torch.tril(x, -1), kwargs={"diagonal": -1}),
    Case("triu_0_noncontig", "triu", [Input([5, 4], permute=[1, 0])], lambda x: torch.triu(x), kwargs={"diagonal": 0}),
    Case("triu_pos_batch", "triu", [Input([2, 4, 4])], lambda x: torch.triu(x, 1), kwargs={"diagonal": 1}),
    Case("triu_neg", "triu", [Input([5, 3])], lambda x: torch.triu(x, -2), kwargs={"diagonal": -2}),
    Case("triu_beyond", "triu", [Input([3, 3])], lambda x: torch.triu(x, 5), kwargs={"diagonal": 5}),
    Case("tril_int64", "tril", [Input([3, 4], kind="int", low=-9, high=9)], lambda x: torch.tril(x, 1), kwargs={"diagonal": 1}),
]

if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    run_cases(os.path.join(root, "test", "fixtures", "ops", "index.safetensors"), cases, "tools/reference/ops_index.py", seed=2)
