"""Reference fixture for the optimizers: 20 steps of SGD, Adam, AdamW, Adafactor, LAMB and
the gradient clipping functions on a small model, in PyTorch 1.13 (and timm from TIMM_PATH).

Model: Linear(20, 24) -> GELU -> LayerNorm(24) -> Linear(24, 5), MSE loss on a fixed batch.
Writes test/fixtures/train/optim.safetensors with:
  init.<param>, x, y                   the shared start point and data
  <case>.losses                        the loss before each of the 20 steps
  <case>.final.<param>                 the parameters after 20 steps
  clip.* / clipvalue.*                 grads and total norms for clip_grad_norm_/clip_grad_value_
Metadata 'cases' is the JSON list of {name, optimizer, options} the TS test replays.
Run: TIMM_PATH=/work/oracle/timm /usr/bin/python3 tools/reference/optim_parity.py
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.environ.get('TIMM_PATH', '/work/oracle/timm'))
from common import save_safetensors  # noqa: E402
from timm.optim.adafactor import Adafactor  # noqa: E402
from timm.optim.lamb import Lamb  # noqa: E402

STEPS = 20
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'train', 'optim.safetensors')


def make_model():
    return torch.nn.Sequential(
        torch.nn.Linear(20, 24), torch.nn.GELU(), torch.nn.LayerNorm(24), torch.nn.Linear(24, 5))


def groups(model, wd):
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return [{'params': no_decay, 'weight_decay': 0.0}, {'params': decay, 'weight_decay': wd}]


# (name, TS optimizer name, TS options, torch factory)
CASES = [
    ('sgd', 'sgd', {'lr': 0.05, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 1e-2},
     lambda m: torch.optim.SGD(groups(m, 1e-2), lr=0.05, momentum=0.9, nesterov=True)),
    ('sgd_damp', 'sgd', {'lr': 0.05, 'momentum': 0.8, 'dampening': 0.3, 'weightDecay': 1e-3},
     lambda m: torch.optim.SGD(groups(m, 1e-3), lr=0.05, momentum=0.8, dampening=0.3)),
    ('adam', 'adam', {'lr': 0.01, 'betas': [0.85, 0.99], 'eps': 1e-7, 'weightDecay': 1e-2},
     lambda m: torch.optim.Adam(groups(m, 1e-2), lr=0.01, betas=(0.85, 0.99), eps=1e-7)),
    ('adam_amsgrad', 'adam', {'lr': 0.01, 'amsgrad': True, 'weightDecay': 0},
     lambda m: torch.optim.Adam(m.parameters(), lr=0.01, amsgrad=True)),
    ('adamw', 'adamw', {'lr': 0.01, 'weightDecay': 0.05},
     lambda m: torch.optim.AdamW(groups(m, 0.05), lr=0.01)),
    ('adamw_amsgrad', 'adamw', {'lr': 0.01, 'weightDecay': 0.05, 'amsgrad': True},
     lambda m: torch.optim.AdamW(groups(m, 0.05), lr=0.01, amsgrad=True)),
    ('adafactor', 'adafactor', {'weightDecay': 1e-2},
     lambda m: Adafactor(groups(m, 1e-2))),
    ('adafactor_beta1', 'adafactor', {'lr': 0.01, 'betas': [0.9, 0.999], 'scaleParameter': False},
     lambda m: Adafactor(m.parameters(), lr=0.01, betas=(0.9, 0.999), scale_parameter=False)),
    ('adafactor_warmup', 'adafactor', {'warmupInit': True, 'clipThreshold': 0.5},
     lambda m: Adafactor(m.parameters(), warmup_init=True, clip_threshold=0.5)),
    ('lamb', 'lamb', {'lr': 0.01, 'weightDecay': 0.01, 'maxGradNorm': 0.5},
     lambda m: Lamb(groups(m, 0.01), lr=0.01, weight_decay=0.01, max_grad_norm=0.5)),
    ('lamb_adapt', 'lamb', {'lr': 0.01, 'weightDecay': 0.01, 'alwaysAdapt': True,
                            'gradAveraging': False, 'maxGradNorm': None, 'trustClip': True},
     lambda m: Lamb(groups(m, 0.01), lr=0.01, weight_decay=0.01, always_adapt=True, grad_averaging=False,
                    max_grad_norm=None, trust_clip=True)),
]


def main():
    torch.manual_seed(0)
    base = make_model()
    with torch.no_grad():
        for p in base.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # non-trivial LayerNorm affine
    x = torch.randn(16, 20)
    y = torch.randn(16, 5)
    init = {n: p.detach().clone() for n, p in base.named_parameters()}
    out = {'x': x, 'y': y}
    out.update({f'init.{n}': t for n, t in init.items()})
    meta_cases = []
    for name, opt_name, options, factory in CASES:
        model = make_model()
        model.load_state_dict(init)
        opt = factory(model)
        losses = []
        for _ in range(STEPS):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        out[f'{name}.losses'] = torch.tensor(losses, dtype=torch.float32)
        for n, p in model.named_parameters():
            out[f'{name}.final.{n}'] = p.detach().clone()
        meta_cases.append({'name': name, 'optimizer': opt_name, 'options': options})

    # clipping: the grads of one backward, clipped by each norm type
    clips = []
    for i, (max_norm, norm_type) in enumerate([(0.5, 2.0), (0.1, 1.0), (0.05, float('inf')), (100.0, 2.0)]):
        model = make_model()
        model.load_state_dict(init)
        ((model(x) - y) ** 2).mean().backward()
        total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)
        out[f'clip{i}.total'] = total.reshape(1).float()
        for n, p in model.named_parameters():
            out[f'clip{i}.grad.{n}'] = p.grad.clone()
        clips.append({'index': i, 'maxNorm': max_norm, 'normType': 'inf' if norm_type == float('inf') else norm_type})
    model = make_model()
    model.load_state_dict(init)
    ((model(x) - y) ** 2).mean().backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), 0.01)
    for n, p in model.named_parameters():
        out[f'clipvalue.grad.{n}'] = p.grad.clone()

    out = {k: v.contiguous().float() for k, v in out.items()}
    save_safetensors(OUT, out, {'cases': json.dumps(meta_cases), 'clips': json.dumps(clips), 'steps': str(STEPS)})
    print(f'wrote {OUT}: {len(out)} tensors')


if __name__ == '__main__':
    main()
