"""Reference values for src/train/{scheduler,losses}.ts: timm's lr schedules at every step and
torch 1.13 losses with input grads, written to test/fixtures/train/sched_loss.safetensors.

Run: PYTHONPATH=/work/oracle/timm /usr/bin/python3 tools/reference/sched_loss_parity.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from common import Case, Input, run_cases, load_safetensors, save_safetensors  # noqa: E402

from timm.loss import BinaryCrossEntropy, LabelSmoothingCrossEntropy, SoftTargetCrossEntropy  # noqa: E402
from timm.scheduler import CosineLRScheduler, MultiStepLRScheduler, PolyLRScheduler, StepLRScheduler  # noqa: E402
from timm.scheduler.scheduler_factory import create_scheduler_v2  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "train", "sched_loss.safetensors")
BASE_LRS = [0.1, 0.05]
LR_SCALE = [None, 0.5]


class Groups:
    """The slice of an optimizer timm's schedulers touch."""

    def __init__(self):
        self.param_groups = []
        for lr, scale in zip(BASE_LRS, LR_SCALE):
            g = {"lr": lr}
            if scale is not None:
                g["lr_scale"] = scale
            self.param_groups.append(g)


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


# (name, how, sched-or-class, kwargs). how: 'factory' (create_scheduler_v2) or 'class'.
SCHEDULES = [
    ("cosine_warmup_min", "factory", "cosine", dict(num_epochs=20, warmup_epochs=3, warmup_lr=1e-4, min_lr=1e-5)),
    ("cosine_warmup_prefix", "factory", "cosine", dict(num_epochs=20, warmup_epochs=3, warmup_lr=1e-4, min_lr=1e-5, warmup_prefix=True)),
    ("cosine_cooldown", "factory", "cosine", dict(num_epochs=12, warmup_epochs=2, min_lr=1e-3, cooldown_epochs=4)),
    ("cosine_cycles_factory", "factory", "cosine", dict(num_epochs=6, cycle_limit=3, cycle_decay=0.5, min_lr=1e-4, warmup_epochs=1, warmup_prefix=True)),
    ("cosine_per_update", "factory", "cosine", dict(num_epochs=5, warmup_epochs=1, cooldown_epochs=2, min_lr=1e-6, step_on_epochs=False, updates_per_epoch=7)),
    ("step", "factory", "step", dict(num_epochs=15, decay_epochs=4, decay_rate=0.5, warmup_epochs=2, warmup_lr=1e-3)),
    ("step_prefix", "factory", "step", dict(num_epochs=15, decay_epochs=4, decay_rate=0.5, warmup_epochs=2, warmup_prefix=True)),
    ("multistep", "factory", "multistep", dict(num_epochs=16, decay_milestones=[3, 7, 12], decay_rate=0.3, warmup_epochs=2)),
    ("multistep_per_update", "factory", "multistep", dict(num_epochs=6, decay_milestones=[2, 4], decay_rate=0.5, warmup_epochs=1, step_on_epochs=False, updates_per_epoch=5)),
    ("linear_to_zero", "factory", "linear", dict(num_epochs=4, warmup_epochs=1, warmup_lr=0.0, warmup_prefix=True, step_on_epochs=False, updates_per_epoch=9)),
    ("poly", "factory", "poly", dict(num_epochs=10, decay_rate=2.0, min_lr=1e-4, warmup_epochs=2)),
    ("cosine_cycle_mul", "class", CosineLRScheduler, dict(t_initial=5, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=3, lr_min=1e-4, warmup_t=2, warmup_lr_init=1e-5)),
    ("cosine_k_decay", "class", CosineLRScheduler, dict(t_initial=12, k_decay=1.7, lr_min=1e-5, warmup_t=3, warmup_prefix=True)),
    ("cosine_restarts_updates", "class", CosineLRScheduler, dict(t_initial=11, cycle_limit=4, cycle_decay=0.7, t_in_epochs=False)),
    ("poly_cycle_mul", "class", PolyLRScheduler, dict(t_initial=4, power=0.5, cycle_mul=1.5, cycle_limit=3, k_decay=0.8)),
    ("step_class", "class", StepLRScheduler, dict(decay_t=3, decay_rate=0.7, warmup_t=2, warmup_lr_init=1e-4, warmup_prefix=False)),
    ("multistep_class", "class", MultiStepLRScheduler, dict(decay_t=[2, 5, 9], decay_rate=0.5, warmup_t=1)),
]
CLASS_KIND = {CosineLRScheduler: "cosine", PolyLRScheduler: "poly", StepLRScheduler: "step", MultiStepLRScheduler: "multistep"}


def record_schedules():
    specs = []
    for name, how, what, kw in SCHEDULES:
        opt = Groups()
        if how == "factory":
            tkw = dict(kw)
            if what == "linear":
                tkw.update(sched="poly", decay_rate=1.0)
            else:
                tkw.update(sched=what)
            sched, num_epochs = create_scheduler_v2(opt, **tkw)
            per_update = not kw.get("step_on_epochs", True)
            steps = num_epochs * kw.get("updates_per_epoch", 1) + 3 if per_update else num_epochs + 3
            ts_opts = {camel(k): v for k, v in kw.items()}
        else:
            sched, num_epochs = what(opt, **kw), None
            per_update = not kw.get("t_in_epochs", True)
            steps = 45
            ts_opts = {camel(k): v for k, v in kw.items()}
            if what is MultiStepLRScheduler:
                ts_opts["milestones"] = ts_opts.pop("decayT")
        rows = [[g["lr"] for g in opt.param_groups]]
        for t in range(steps):
            if per_update:
                sched.step(t)  # must not apply
                sched.step_update(t)
            else:
                sched.step_update(t)  # must not apply
                sched.step(t)
            rows.append([g["lr"] for g in opt.param_groups])
        # JSON keeps every float64 exactly (safetensors F64 would load as float32 on the TS side).
        specs.append({"name": name, "how": how, "sched": what if how == "factory" else CLASS_KIND[what],
                      "options": ts_opts, "perUpdate": per_update, "numEpochs": num_epochs, "lrs": rows})
    return specs


def given(t, grad=False):
    return Input(list(t.shape), kind="given", value=t, grad=grad)


def ce(**kw):
    return lambda x, y, *w: F.cross_entropy(x, y, weight=w[0] if w else None, **kw)


def loss_cases():
    g = torch.Generator().manual_seed(1)
    n, c = 7, 5
    idx = torch.randint(0, c, (n,), generator=g)
    idx_ign = idx.clone()
    idx_ign[[1, 4]] = -100
    idx_ign3 = idx.clone()
    idx_ign3[[0, 2, 5]] = 3
    weight = torch.rand(c, generator=g) + 0.5
    probs = torch.softmax(torch.randn(n, c, generator=g) * 2, 1)
    logits = Input([n, c], low=-3, high=3)
    cases = []
    for red in ("mean", "sum", "none"):
        kw = {"reduction": red}
        cases += [
            Case(f"ce_index_{red}", "crossEntropy", [logits, given(idx)], ce(reduction=red), kw),
            Case(f"ce_index_weight_{red}", "crossEntropy", [logits, given(idx), given(weight)], ce(reduction=red), kw),
            Case(f"ce_index_ignore_{red}", "crossEntropy", [logits, given(idx_ign)], ce(reduction=red), kw),
            Case(f"ce_index_ignore3_weight_{red}", "crossEntropy", [logits, given(idx_ign3), given(weight)],
                 ce(reduction=red, ignore_index=3), {**kw, "ignoreIndex": 3}),
            Case(f"ce_index_smooth_{red}", "crossEntropy", [logits, given(idx_ign)], ce(reduction=red, label_smoothing=0.2),
                 {**kw, "labelSmoothing": 0.2}),
            Case(f"ce_index_smooth_weight_{red}", "crossEntropy", [logits, given(idx_ign), given(weight)],
                 ce(reduction=red, label_smoothing=0.15), {**kw, "labelSmoothing": 0.15}),
            Case(f"ce_prob_{red}", "crossEntropy", [logits, given(probs)], ce(reduction=red), kw),
            Case(f"ce_prob_smooth_weight_{red}", "crossEntropy", [logits, given(probs), given(weight)],
                 ce(reduction=red, label_smoothing=0.1), {**kw, "labelSmoothing": 0.1}),
        ]
    cases += [
        Case("ce_index_permuted", "crossEntropy", [Input([c, n], permute=[1, 0]), given(idx)], ce(), {}),
        Case("ce_prob_grad_target", "crossEntropy", [logits, Input([n, c], kind="positive")], ce(label_smoothing=0.1),
             {"labelSmoothing": 0.1}),
        Case("timm_label_smoothing_ce", "labelSmoothingCrossEntropy", [logits, given(idx)],
             lambda x, y: LabelSmoothingCrossEntropy(0.2)(x, y), {"smoothing": 0.2}),
        Case("timm_soft_target_ce", "softTargetCrossEntropy", [logits, given(probs)],
             lambda x, y: SoftTargetCrossEntropy()(x, y), {}),
    ]
    targets01 = (torch.rand(n, c, generator=g) < 0.4).double()
    soft01 = torch.rand(n, c, generator=g)
    pos_w = torch.rand(c, generator=g) * 2 + 0.2
    bce_w = torch.rand(n, c, generator=g) + 0.5
    for red in ("mean", "sum", "none"):
        kw = {"reduction": red}
        cases += [
            Case(f"bce_{red}", "bceWithLogits", [logits, given(soft01)],
                 lambda x, y, red=red: F.binary_cross_entropy_with_logits(x, y, reduction=red), kw),
            Case(f"bce_weight_pos_{red}", "bceWithLogits", [logits, given(targets01), given(bce_w), given(pos_w)],
                 lambda x, y, w, p, red=red: F.binary_cross_entropy_with_logits(x, y, w, pos_weight=p, reduction=red), kw),
        ]
    cases += [
        Case("bce_target_grad", "bceWithLogits", [Input([3, 4, 2]), Input([3, 4, 2], low=0, high=1)],
             lambda x, y: F.binary_cross_entropy_with_logits(x, y), {}),
        Case("timm_bce_index_smooth", "timmBinaryCrossEntropy", [logits, given(idx)],
             lambda x, y: BinaryCrossEntropy(smoothing=0.1)(x, y), {"smoothing": 0.1}),
        Case("timm_bce_threshold", "timmBinaryCrossEntropy", [logits, given(soft01)],
             lambda x, y: BinaryCrossEntropy(smoothing=0.0, target_threshold=0.5)(x, y),
             {"smoothing": 0, "targetThreshold": 0.5}),
        Case("timm_bce_sum_classes_pos", "timmBinaryCrossEntropy", [logits, given(idx), given(pos_w)],
             lambda x, y, p: BinaryCrossEntropy(smoothing=0.2, sum_classes=True, pos_weight=p)(x, y),
             {"smoothing": 0.2, "sumClasses": True}),
    ]

    def deit(kind, alpha, tau):
        def fn(cls, dist, teacher, y):
            base = F.cross_entropy(cls, y)
            if kind == "soft":
                d = F.kl_div(F.log_softmax(dist / tau, dim=1), F.log_softmax(teacher / tau, dim=1),
                             reduction="sum", log_target=True) * (tau * tau) / dist.numel()
            else:
                d = F.cross_entropy(dist, teacher.argmax(dim=1))
            return base * (1 - alpha) + d * alpha
        return fn

    teacher = torch.randn(n, c, generator=g) * 2
    dist_in = [logits, Input([n, c], low=-3, high=3), given(teacher), given(idx)]
    cases += [
        Case("distill_soft", "distillation", dist_in, deit("soft", 0.5, 3.0), {"type": "soft", "alpha": 0.5, "tau": 3.0}),
        Case("distill_hard", "distillation", dist_in, deit("hard", 0.3, 1.0), {"type": "hard", "alpha": 0.3}),
    ]

    def clip(img, txt, scale):
        img = F.normalize(img, dim=-1)
        txt = F.normalize(txt, dim=-1)
        lpi = scale * img @ txt.T
        labels = torch.arange(img.shape[0])
        return (F.cross_entropy(lpi, labels) + F.cross_entropy(lpi.T, labels)) / 2

    cases += [
        Case("clip_loss", "clip", [Input([6, 8]), Input([6, 8]), Input([], low=5, high=20)], clip, {}),
    ]
    return cases


def main():
    cases = loss_cases()
    run_cases(OUT, cases, "tools/reference/sched_loss_parity.py", seed=0)
    tensors, meta = load_safetensors(OUT)
    specs = record_schedules()
    meta["schedules"] = json.dumps(specs)
    meta["baseLrs"] = json.dumps(BASE_LRS)
    meta["lrScale"] = json.dumps(LR_SCALE)
    save_safetensors(OUT, tensors, meta)
    print(f"wrote {len(specs)} schedules", file=sys.stderr)


if __name__ == "__main__":
    main()
