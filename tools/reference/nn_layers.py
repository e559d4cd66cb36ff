#!/usr/bin/python3
"""Fixtures for the nn layers: torch modules' state-dict layout (key names, order, shapes,
dtypes), parameter counts, and forward outputs, input grads and parameter grads (random
cotangent) computed in float64 with each module's own random weights, which are saved so
test/nn/layers.test.ts can load them into our modules with loadStateDict. Also fan and gain
values of torch.nn.init for test/nn/init.test.ts.

Writes test/fixtures/nn/layers.safetensors. Run: /usr/bin/python3 tools/reference/nn_layers.py
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from common import Input, save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "nn", "layers.safetensors")


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Tower(nn.Module):
    """ModuleList + ModuleDict + persistent and non-persistent buffers."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 5), nn.Linear(5, 4)])
        self.register_buffer("scale", torch.full((4,), 0.5))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.heads = nn.ModuleDict({"b": nn.Linear(4, 2), "a": nn.Linear(4, 3, bias=False)})

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        x = x * self.scale
        return torch.cat([self.heads["b"](x), self.heads["a"](x)], -1)


class Tied(nn.Module):
    """Two Linears sharing one weight: state_dict lists it twice, parameters once."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


class Case:
    """A torch module (built by `make` under a fixed seed), its TypeScript constructor key and
    arguments, named inputs and how to call it. `fwd` describes the call to the TS side."""

    def __init__(self, name, kind, kwargs, make, inputs, call=None, fwd=None, train=False, perturb=False):
        self.name, self.kind, self.kwargs, self.make, self.inputs = name, kind, kwargs, make, inputs
        self.call = call or (lambda m, *xs: m(*xs))
        self.fwd, self.train, self.perturb = fwd or {}, train, perturb


def norm_perturb(m, gen):
    """Moves norm affine params and running stats off their ones/zeros defaults."""
    with torch.no_grad():
        for name, t in list(m.named_parameters()) + list(m.named_buffers()):
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif name.endswith("weight") and t.dim() <= 2:
                t.copy_(1 + 0.3 * torch.randn(t.shape, generator=gen))
            else:
                t.copy_(0.3 * torch.randn(t.shape, generator=gen))


F = Input
causal = torch.triu(torch.ones(3, 3, dtype=torch.bool), 1)
kpm = torch.tensor([[False, False, False, True], [False, True, False, False]])
cases = [
    Case("linear", "Linear", {"in": 5, "out": 3}, lambda: nn.Linear(5, 3), [("x", F([2, 4, 5]))]),
    Case("linear_nobias_noncontig", "Linear", {"in": 4, "out": 6, "bias": False}, lambda: nn.Linear(4, 6, bias=False), [("x", F([4, 3], permute=[1, 0]))]),
    Case("linear_1d", "Linear", {"in": 3, "out": 2}, lambda: nn.Linear(3, 2), [("x", F([3]))]),
    Case("identity", "Identity", {}, lambda: nn.Identity(), [("x", F([2, 3]))]),
    Case("sequential", "SeqLinear", {}, lambda: nn.Sequential(nn.Linear(4, 6), nn.Identity(), nn.Sequential(nn.Linear(6, 5), nn.Linear(5, 2))), [("x", F([3, 4]))]),
    Case("tower", "Tower", {}, Tower, [("x", F([2, 4]))]),
    Case("tied", "Tied", {}, Tied, [("x", F([3, 4]))]),
    Case("conv1d", "Conv1d", {"in": 3, "out": 4, "k": 3, "stride": 2, "padding": 1}, lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), [("x", F([2, 3, 9]))]),
    Case("conv1d_same_reflect", "Conv1d", {"in": 2, "out": 3, "k": 3, "padding": "same", "dilation": 2, "padding_mode": "reflect"},
         lambda: nn.Conv1d(2, 3, 3, padding="same", dilation=2, padding_mode="reflect"), [("x", F([2, 2, 8]))]),
    Case("conv2d_groups", "Conv2d", {"in": 4, "out": 6, "k": 3, "padding": 1, "groups": 2}, lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2), [("x", F([1, 4, 4, 4]))]),
    Case("conv2d_rect_nobias", "Conv2d", {"in": 3, "out": 4, "k": [3, 2], "stride": [2, 1], "padding": [1, 0], "dilation": [1, 2], "bias": False},
         lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), bias=False), [("x", F([1, 5, 3, 3], permute=[0, 3, 1, 2]))]),
    Case("conv2d_same_circular", "Conv2d", {"in": 2, "out": 2, "k": 3, "padding": "same", "padding_mode": "circular"},
         lambda: nn.Conv2d(2, 2, 3, padding="same", padding_mode="circular"), [("x", F([1, 2, 4, 5]))]),
    Case("conv2d_replicate_unbatched", "Conv2d", {"in": 2, "out": 3, "k": 2, "padding": 1, "padding_mode": "replicate"},
         lambda: nn.Conv2d(2, 3, 2, padding=1, padding_mode="replicate"), [("x", F([2, 4, 4]))]),
    Case("conv3d", "Conv3d", {"in": 2, "out": 3, "k": [2, 3, 3], "stride": [1, 2, 2], "padding": 1}, lambda: nn.Conv3d(2, 3, (2, 3, 3), stride=(1, 2, 2), padding=1), [("x", F([1, 2, 3, 5, 5]))]),
    Case("convT1d", "ConvTranspose1d", {"in": 4, "out": 3, "k": 3, "stride": 2, "padding": 1, "output_padding": 1},
         lambda: nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1), [("x", F([2, 4, 5]))]),
    Case("convT2d_groups", "ConvTranspose2d", {"in": 4, "out": 6, "k": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
         lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), [("x", F([1, 4, 3, 3]))]),
    Case("convT2d_dil_nobias", "ConvTranspose2d", {"in": 3, "out": 2, "k": [2, 3], "stride": [2, 1], "dilation": [1, 2], "bias": False},
         lambda: nn.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), dilation=(1, 2), bias=False), [("x", F([1, 3, 3, 4]))]),
    Case("convT2d_output_size", "ConvTranspose2d", {"in": 2, "out": 2, "k": 3, "stride": 2, "padding": 1},
         lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1), [("x", F([1, 2, 3, 3]))],
         call=lambda m, x: m(x, output_size=[6, 6]), fwd={"output_size": [6, 6]}),
    Case("convT3d", "ConvTranspose3d", {"in": 2, "out": 3, "k": 2, "stride": 2}, lambda: nn.ConvTranspose3d(2, 3, 2, stride=2), [("x", F([1, 2, 2, 3, 2]))]),
    Case("bn1d_eval", "BatchNorm1d", {"num": 4}, lambda: nn.BatchNorm1d(4), [("x", F([5, 4]))], perturb=True),
    Case("bn1d_train_3d", "BatchNorm1d", {"num": 4}, lambda: nn.BatchNorm1d(4), [("x", F([3, 4, 6]))], train=True, perturb=True),
    Case("bn2d_train", "BatchNorm2d", {"num": 3}, lambda: nn.BatchNorm2d(3), [("x", F([2, 3, 4, 5]))], train=True, perturb=True),
    Case("bn2d_eval", "BatchNorm2d", {"num": 3, "eps": 1e-3}, lambda: nn.BatchNorm2d(3, eps=1e-3), [("x", F([2, 4, 5, 3], permute=[0, 3, 1, 2]))], perturb=True),
    Case("bn2d_train_cumulative", "BatchNorm2d", {"num": 3, "momentum": None}, lambda: nn.BatchNorm2d(3, momentum=None), [("x", F([2, 3, 3, 3]))], train=True, perturb=True),
    Case("bn2d_no_stats_eval", "BatchNorm2d", {"num": 3, "affine": False, "track_running_stats": False},
         lambda: nn.BatchNorm2d(3, affine=False, track_running_stats=False), [("x", F([2, 3, 3, 3]))]),
    Case("bn3d_train", "BatchNorm3d", {"num": 2, "momentum": 0.3}, lambda: nn.BatchNorm3d(2, momentum=0.3), [("x", F([2, 2, 3, 2, 3]))], train=True, perturb=True),
    Case("layernorm", "LayerNorm", {"shape": [6]}, lambda: nn.LayerNorm(6), [("x", F([2, 3, 6]))], perturb=True),
    Case("layernorm_2d_eps", "LayerNorm", {"shape": [3, 4], "eps": 1e-6}, lambda: nn.LayerNorm([3, 4], eps=1e-6), [("x", F([2, 3, 4]))], perturb=True),
    Case("layernorm_noaffine", "LayerNorm", {"shape": [5], "elementwise_affine": False}, lambda: nn.LayerNorm(5, elementwise_affine=False), [("x", F([4, 5]))]),
    Case("groupnorm", "GroupNorm", {"groups": 2, "channels": 6}, lambda: nn.GroupNorm(2, 6), [("x", F([2, 6, 3, 3]))], perturb=True),
    Case("groupnorm_noaffine", "GroupNorm", {"groups": 3, "channels": 6, "affine": False}, lambda: nn.GroupNorm(3, 6, affine=False), [("x", F([2, 6, 5]))]),
    Case("embedding", "Embedding", {"num": 10, "dim": 4}, lambda: nn.Embedding(10, 4), [("ids", F([2, 5], kind="int", low=0, high=10))]),
    Case("embedding_padding", "Embedding", {"num": 6, "dim": 3, "padding_idx": 0}, lambda: nn.Embedding(6, 3, padding_idx=0),
         [("ids", F([2, 4], kind="given", value=torch.tensor([[0, 1, 2, 0], [5, 0, 3, 1]])))]),
    Case("dropout_eval", "Dropout", {"p": 0.3}, lambda: nn.Dropout(0.3), [("x", F([3, 4]))]),
    Case("relu", "ReLU", {}, lambda: nn.ReLU(), [("x", F([3, 5]))]),
    Case("leaky_relu", "LeakyReLU", {"slope": 0.2}, lambda: nn.LeakyReLU(0.2), [("x", F([3, 5]))]),
    Case("gelu", "GELU", {}, lambda: nn.GELU(), [("x", F([3, 5]))]),
    Case("gelu_tanh", "GELU", {"approximate": "tanh"}, lambda: nn.GELU(approximate="tanh"), [("x", F([3, 5]))]),
    Case("quick_gelu", "QuickGELU", {}, QuickGELU, [("x", F([3, 5]))]),
    Case("silu", "SiLU", {}, lambda: nn.SiLU(), [("x", F([3, 5]))]),
    Case("sigmoid", "Sigmoid", {}, lambda: nn.Sigmoid(), [("x", F([3, 5]))]),
    Case("tanh", "Tanh", {}, lambda: nn.Tanh(), [("x", F([3, 5]))]),
    Case("softmax", "Softmax", {"dim": 1}, lambda: nn.Softmax(dim=1), [("x", F([3, 5]))]),
    Case("mlp", "Mlp", {}, lambda: nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8)), nn.Linear(8, 3)), [("x", F([2, 4]))]),
    # MultiheadAttention: E=8, H=2.
    Case("mha_cross", "MultiheadAttention", {"E": 8, "H": 2}, lambda: nn.MultiheadAttention(8, 2),
         [("q", F([3, 2, 8])), ("k", F([4, 2, 8])), ("v", F([4, 2, 8]))],
         call=lambda m, q, k, v: m(q, k, v)),
    Case("mha_self_masks_batch_first", "MultiheadAttention", {"E": 8, "H": 2, "batch_first": True}, lambda: nn.MultiheadAttention(8, 2, batch_first=True),
         [("x", F([2, 3, 8])), ("attn_mask", F([3, 3], kind="given", value=causal))],
         call=lambda m, x, am: m(x, x, x, attn_mask=am), fwd={"self": True}),
    Case("mha_kpm_float_mask_per_head", "MultiheadAttention", {"E": 8, "H": 2, "batch_first": True}, lambda: nn.MultiheadAttention(8, 2, batch_first=True),
         [("q", F([2, 3, 8])), ("k", F([2, 4, 8])), ("v", F([2, 4, 8])),
          ("attn_mask", F([4, 3, 4], low=-1, high=1, grad=False)), ("key_padding_mask", F([2, 4], kind="given", value=kpm))],
         call=lambda m, q, k, v, am, pm: m(q, k, v, attn_mask=am, key_padding_mask=pm, average_attn_weights=False),
         fwd={"average_attn_weights": False}),
    Case("mha_no_weights_kpm", "MultiheadAttention", {"E": 8, "H": 4}, lambda: nn.MultiheadAttention(8, 4),
         [("q", F([3, 2, 8])), ("k", F([4, 2, 8])), ("v", F([4, 2, 8])), ("key_padding_mask", F([2, 4], kind="given", value=kpm))],
         call=lambda m, q, k, v, pm: m(q, k, v, key_padding_mask=pm, need_weights=False), fwd={"need_weights": False}),
    Case("mha_nobias_unbatched", "MultiheadAttention", {"E": 8, "H": 2, "bias": False}, lambda: nn.MultiheadAttention(8, 2, bias=False),
         [("q", F([3, 8])), ("k", F([5, 8])), ("v", F([5, 8]))], call=lambda m, q, k, v: m(q, k, v)),
    Case("mha_kdim_vdim", "MultiheadAttention", {"E": 8, "H": 2, "kdim": 5, "vdim": 3}, lambda: nn.MultiheadAttention(8, 2, kdim=5, vdim=3),
         [("q", F([3, 2, 8])), ("k", F([4, 2, 5])), ("v", F([4, 2, 3]))], call=lambda m, q, k, v: m(q, k, v)),
]


def run():
    gen = torch.Generator().manual_seed(0)
    tensors, specs = {}, []
    for idx, c in enumerate(cases):
        torch.manual_seed(1000 + idx)
        m = c.make()
        if c.perturb:
            norm_perturb(m, gen)
        keys = []
        for k, v in m.state_dict().items():
            keys.append([k, list(v.shape), str(v.dtype).replace("torch.", "")])
            tensors[f"{c.name}/sd/{k}"] = v.clone()
        num_params = sum(p.numel() for p in m.parameters())
        m = m.double().train(c.train)
        xs, views, grad_inputs = [], [], []
        for j, (name, spec) in enumerate(c.inputs):
            base = spec.make(gen)
            tensors[f"{c.name}/in/{name}"] = base.float() if base.is_floating_point() else base
            v = base.double() if base.is_floating_point() else base
            v = v.permute(*spec.permute) if spec.permute else v
            if spec.grad and v.is_floating_point():
                v = v.detach().requires_grad_(True)
                grad_inputs.append(name)
            views.append(v)
        out = c.call(m, *views)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        for k, o in enumerate(outs):
            if o is not None:
                tensors[f"{c.name}/out{k}"] = o.detach().float()
        names = [n for n, _ in m.named_parameters()]
        params = [p for _, p in m.named_parameters()]
        want = [v for v, (n, _) in zip(views, c.inputs) if n in grad_inputs]
        cot = torch.randn(outs[0].shape, generator=gen).double()
        tensors[f"{c.name}/cot"] = cot.float()
        got = torch.autograd.grad(outs[0], want + params, cot, allow_unused=True)
        for n, g in zip(grad_inputs, got[:len(want)]):
            tensors[f"{c.name}/grad/{n}"] = torch.zeros(1) if g is None else g.float()
        for n, p, g in zip(names, params, got[len(want):]):
            tensors[f"{c.name}/pgrad/{n}"] = (torch.zeros_like(p) if g is None else g).float()
        if c.train:
            for k, v in m.named_buffers():
                tensors[f"{c.name}/after/{k}"] = v.float() if v.is_floating_point() else v
        specs.append({
            "name": c.name, "kind": c.kind, "kwargs": c.kwargs, "fwd": c.fwd, "train": c.train,
            "keys": keys, "numParams": num_params,
            "inputs": [{"name": n, "permute": s.permute, "grad": n in grad_inputs} for n, s in c.inputs],
            "outputs": [o is not None for o in outs], "paramGrads": names,
        })
    fans = [[list(s), *nn.init._calculate_fan_in_and_fan_out(torch.empty(s))]
            for s in [(5, 3), (3, 5), (8, 4, 3, 3), (4, 2, 3), (6, 3, 2, 3, 3), (4, 3, 1, 1), (7, 0)]]
    gains = [[nl, p, nn.init.calculate_gain(nl, p)] for nl, p in
             [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
              ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 5 ** 0.5), ("selu", None)]]
    meta = {"cases": json.dumps(specs), "init": json.dumps({"fans": fans, "gains": gains}),
            "script": "tools/reference/nn_layers.py", "torch": torch.__version__}
    save_safetensors(OUT, tensors, meta)
    print(f"wrote {len(cases)} cases, {os.path.getsize(OUT)} bytes to {OUT}", file=sys.stderr)


run()
