"""Reference values for tests/al/train with Debian's PyTorch (/usr/bin/python3, torch 1.13).

Writes fixtures/train_reference.json:
- loss: the ActiveKD loss 0.5*CE + 0.5*(KD_L + KD_U), T=2, on random logits, with its gradients;
- schedule: the learning rate of each step, linear warm-up over floor(0.1*steps) steps then
  linear decay to 0 (transformers' get_linear_schedule_with_warmup, as a LambdaLR);
- steps: a tiny dual-head student (Linear backbone + ReLU, ce_head, kd_head) trained for a few
  steps with AdamW(1e-3, wd 0.01) under that schedule; initial and final parameters, losses.
Run: /usr/bin/python3 tests/al/train/make_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
T = 2.0


def kd(s, t):
    return F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean") * T * T


def loss_fn(ce_l, kd_l, kd_u, y, t_l, t_u):
    return 0.5 * F.cross_entropy(ce_l, y) + 0.5 * (kd(kd_l, t_l) + kd(kd_u, t_u))


def lams(total, warmup_frac):
    warm = int(warmup_frac * total)

    def lam(step):
        if step < warm:
            return step / max(1, warm)
        return max(0.0, (total - step) / max(1, total - warm))

    return lam


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


out = {}

# Loss and its gradients.
B_L, B_U, C = 5, 6, 7
ce_l = (torch.randn(B_L, C) * 3).requires_grad_()
kd_l = (torch.randn(B_L, C) * 3).requires_grad_()
kd_u = (torch.randn(B_U, C) * 3).requires_grad_()
y = torch.randint(0, C, (B_L,))
t_l = torch.randn(B_L, C) * 4
t_u = torch.randn(B_U, C) * 4
loss = loss_fn(ce_l, kd_l, kd_u, y, t_l, t_u)
loss.backward()
out["loss"] = {
    "classes": C,
    "ce_labeled": flat(ce_l), "kd_labeled": flat(kd_l), "kd_unlabeled": flat(kd_u),
    "labels": [int(v) for v in y], "teacher_labeled": flat(t_l), "teacher_unlabeled": flat(t_u),
    "loss": float(loss),
    "grad_ce_labeled": flat(ce_l.grad), "grad_kd_labeled": flat(kd_l.grad),
    "grad_kd_unlabeled": flat(kd_u.grad),
}

# Schedule.
out["schedule"] = []
for total in (1, 7, 25, 200):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lams(total, 0.1))
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(1)
        opt.step()
        sched.step()
    out["schedule"].append({"steps": total, "warmup": 0.1, "lr": 1e-3, "lrs": lrs})

# A few training steps of a tiny dual-head student.
IN, D, C, B, STEPS = 6, 5, 3, 4, 12
backbone = torch.nn.Linear(IN, D)
ce_head = torch.nn.Linear(D, C)
kd_head = torch.nn.Linear(D, C)
named = {"backbone.weight": backbone.weight, "backbone.bias": backbone.bias,
         "ce_head.weight": ce_head.weight, "ce_head.bias": ce_head.bias,
         "kd_head.weight": kd_head.weight, "kd_head.bias": kd_head.bias}
init = {k: flat(v) for k, v in named.items()}
params = list(named.values())
opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lams(STEPS, 0.1))
batches, losses = [], []
for _ in range(STEPS):
    x_l = torch.randn(B, IN)
    x_u = torch.randn(B, IN)
    yb = torch.randint(0, C, (B,))
    tl = torch.randn(B, C) * 3
    tu = torch.randn(B, C) * 3
    h_l = F.relu(backbone(x_l))
    h_u = F.relu(backbone(x_u))
    l = loss_fn(ce_head(h_l), kd_head(h_l), kd_head(h_u), yb, tl, tu)
    opt.zero_grad()
    l.backward()
    opt.step()
    sched.step()
    losses.append(float(l))
    batches.append({"x_labeled": flat(x_l), "x_unlabeled": flat(x_u), "labels": [int(v) for v in yb],
                    "teacher_labeled": flat(tl), "teacher_unlabeled": flat(tu)})
out["steps"] = {"in": IN, "dim": D, "classes": C, "batch": B, "steps": STEPS, "init": init,
                "batches": batches, "losses": losses,
                "final": {k: flat(v) for k, v in named.items()}}

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "fixtures", "train_reference.json"), "w") as f:
    json.dump(out, f)
    f.write("\n")
