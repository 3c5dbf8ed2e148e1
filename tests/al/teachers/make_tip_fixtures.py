"""Tip-Adapter-F reference values with Debian's PyTorch (/usr/bin/python3, torch 1.13).

Writes fixtures/tip_reference.json. The zero-shot head W is the tiny CLIP fixture's text features
(../shared/fixtures/clip_rn/io.safetensors, E = 48, C = 3 prompts), normalised as CLIP does; image
features are drawn near the class text features. Mirrors the Tip-Adapter code (main.py,
utils.py): keys = normalised mean over augment passes of unnormalised features; the keys are the
weight of a bias-free nn.Linear fine-tuned with AdamW(eps 1e-4, lr LR, torch's default weight
decay) under CosineAnnealingLR over all steps, α and β fixed; the best-val epoch is kept; then
search_hp's grid (β outer, α inner, first best wins), here in float64.
Also saves that fit as the official code does (best_F_*.pt, values_*.pt) and converts it with
tools/convert_tip_adapter.py into fixtures/tip_fit.safetensors (CLIP: the clip_rn fixture).
Run: /usr/bin/python3 tests/al/teachers/make_tip_fixtures.py [FIXTURES_DIR]
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "..",
                                                               "shared", "fixtures")


def read_safetensors(path, name):
    with open(path, "rb") as fh:
        blob = fh.read()
    (n,) = struct.unpack("<Q", blob[:8])
    info = json.loads(blob[8:8 + n])[name]
    start, end = info["data_offsets"]
    data = blob[8 + n + start:8 + n + end]
    values = struct.unpack(f"<{len(data) // 4}f", data)
    return torch.tensor(values, dtype=torch.float32).reshape(info["shape"])


torch.manual_seed(13)
text = read_safetensors(os.path.join(fixtures, "clip_rn", "io.safetensors"), "text_features")
C, E = text.shape
W = (text / text.norm(dim=-1, keepdim=True)).t().contiguous()  # [E, C], columns normalised
# lr above the published 0.001 so that a few steps move the val accuracy (the best epoch matters).
M, PASSES, BATCH, EPOCHS, NVAL, NTEST, LR = 7, 3, 4, 4, 48, 5, 0.05
ALPHA, BETA, SCALE, STEPS = 10.0, 1.0, [13, 13], [200, 20]


def features(labels, noise):
    """Unnormalised features near each label's text feature."""
    return text[labels] + noise * torch.randn(len(labels), E)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


key_labels = torch.tensor([0, 1, 2, 0, 1, 2, 1])
passes = [features(key_labels, 4.0) for _ in range(PASSES)]
keys0 = torch.stack(passes).mean(0)
keys0 = keys0 / keys0.norm(dim=-1, keepdim=True)
values = F.one_hot(key_labels, C).float()

val_labels = torch.randint(0, C, (NVAL,))
val = features(val_labels, 6.0)
val = val / val.norm(dim=-1, keepdim=True)


def tip_logits(f, keys_weight, alpha, beta):
    affinity = f @ keys_weight.t()
    cache_logits = ((-1) * (beta - beta * affinity)).exp() @ values
    return 100.0 * f @ W + cache_logits * alpha


adapter = nn.Linear(E, M, bias=False)
adapter.weight = nn.Parameter(keys0.clone())
optimizer = torch.optim.AdamW(adapter.parameters(), lr=LR, eps=1e-4)
steps_per_epoch = math.ceil(M / BATCH)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS * steps_per_epoch)
batches, losses, accuracies, epoch_keys = [], [], [], []
best_acc, best_epoch = -1.0, -1
for epoch in range(EPOCHS):
    order = torch.randperm(M)
    for k in range(steps_per_epoch):
        rows = order[k * BATCH:(k + 1) * BATCH]
        y = key_labels[rows]
        f = features(y, 4.0)
        f = f / f.norm(dim=-1, keepdim=True)
        affinity = adapter(f)
        cache_logits = ((-1) * (BETA - BETA * affinity)).exp() @ values
        loss = F.cross_entropy(100.0 * f @ W + cache_logits * ALPHA, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(float(loss))
        batches.append({"features": flat(f), "labels": [int(v) for v in y]})
    with torch.no_grad():
        pred = tip_logits(val, adapter.weight, ALPHA, BETA).argmax(1)
        acc = float((pred == val_labels).float().mean())
    accuracies.append(acc)
    epoch_keys.append(flat(adapter.weight))
    if acc > best_acc:
        best_acc, best_epoch = acc, epoch
best_keys = torch.tensor(epoch_keys[best_epoch]).reshape(M, E)

# search_hp, in float64 on the float32 inputs.
v64 = val.double()
affinity = v64 @ best_keys.double().t()
clip_logits = 100.0 * v64 @ W.double()
beta_list = [i * (SCALE[0] - 0.1) / STEPS[0] + 0.1 for i in range(STEPS[0])]
alpha_list = [i * (SCALE[1] - 0.1) / STEPS[1] + 0.1 for i in range(STEPS[1])]
best = (-1.0, None, None)
for beta in beta_list:
    cache_logits = torch.exp(-beta * (1 - affinity)) @ values.double()
    for alpha in alpha_list:
        acc = float((clip_logits + alpha * cache_logits).argmax(1).eq(val_labels).double().mean())
        if acc > best[0]:
            best = (acc, alpha, beta)
search_acc, search_alpha, search_beta = best

test_labels = torch.randint(0, C, (NTEST,))
test = features(test_labels, 6.0)
test = test / test.norm(dim=-1, keepdim=True)
with torch.no_grad():
    test_logits = tip_logits(test, best_keys, search_alpha, search_beta)

out = {
    "E": E, "C": C, "M": M, "batch": BATCH, "epochs": EPOCHS, "lr": LR, "alpha0": ALPHA, "beta0": BETA,
    "search_scale": SCALE, "search_steps": STEPS, "w": flat(W),
    "key_labels": [int(v) for v in key_labels], "passes": [flat(p) for p in passes],
    "keys0": flat(keys0), "val": flat(val), "val_labels": [int(v) for v in val_labels],
    "batches": batches, "losses": losses, "accuracies": accuracies, "epoch_keys": epoch_keys,
    "best_epoch": best_epoch, "search": {"alpha": search_alpha, "beta": search_beta,
                                         "accuracy": search_acc},
    "test": flat(test), "test_logits": flat(test_logits),
}
with open(os.path.join(here, "fixtures", "tip_reference.json"), "w") as fh:
    json.dump(out, fh)
    fh.write("\n")

with tempfile.TemporaryDirectory() as tmp:
    torch.save(nn.Parameter(best_keys), os.path.join(tmp, "best_F_1shots.pt"))
    torch.save(values.half(), os.path.join(tmp, "values_1shots.pt"))
    subprocess.run([sys.executable, os.path.join(here, "..", "..", "..", "tools",
                                                 "convert_tip_adapter.py"),
                    "--adapter", os.path.join(tmp, "best_F_1shots.pt"),
                    "--values", os.path.join(tmp, "values_1shots.pt"),
                    "--alpha", repr(search_alpha), "--beta", repr(search_beta),
                    "--clip", os.path.join(fixtures, "clip_rn", "model.safetensors"),
                    "--out", os.path.join(here, "fixtures", "tip_fit.safetensors")], check=True)
