"""CLAP reference values with Debian's PyTorch (/usr/bin/python3, torch 1.13).

Writes fixtures/clap_reference.json: the class weights alpha_c and a few SGD steps of the CLAP
objective CE(100 * norm(f) @ colnorm(P), y) + (1/C) sum_c alpha_c ||P_c - W_raw,c||^2 (lr 0.01,
momentum 0.9, warm-up 10% then linear decay) on given feature batches.
Run: /usr/bin/python3 tests/al/teachers/make_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1)
E, C, M, B, STEPS = 6, 4, 9, 5, 12


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


w_raw = torch.randn(E, C)
w = w_raw / w_raw.norm(dim=0, keepdim=True)
labeled_features = torch.randn(M, E)
labeled_labels = torch.tensor([0, 1, 1, 2, 0, 1, 2, 2, 1])  # class 3 has no labeled image
probs = F.softmax(100 * F.normalize(labeled_features, dim=1) @ w, dim=1)
alpha = torch.zeros(C)
for c in range(C):
    rows = labeled_labels == c
    if rows.any():
        alpha[c] = probs[rows, c].mean()

warm = int(0.1 * STEPS)


def lam(step):
    if step < warm:
        return step / max(1, warm)
    return max(0.0, (STEPS - step) / max(1, STEPS - warm))


P = w_raw.clone().requires_grad_()
opt = torch.optim.SGD([P], lr=0.01, momentum=0.9)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lam)
batches, losses = [], []
for _ in range(STEPS):
    f = torch.randn(B, E) * 2
    y = torch.randint(0, C, (B,))
    logits = 100 * F.normalize(f, dim=1) @ (P / P.norm(dim=0, keepdim=True))
    loss = F.cross_entropy(logits, y) + (alpha * ((P - w_raw) ** 2).sum(0)).sum() / C
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    losses.append(float(loss))
    batches.append({"features": flat(f), "labels": [int(v) for v in y]})

out = {"E": E, "C": C, "steps": STEPS, "w_raw": flat(w_raw), "w": flat(w),
       "labeled_features": flat(labeled_features), "labeled_labels": [int(v) for v in labeled_labels],
       "alpha": flat(alpha), "batches": batches, "losses": losses, "prototypes": flat(P)}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "fixtures", "clap_reference.json"), "w") as fh:
    json.dump(out, fh)
    fh.write("\n")
