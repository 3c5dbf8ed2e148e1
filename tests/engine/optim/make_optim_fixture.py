"""Records PyTorch (1.13, CPU, float32) AdamW / SGD updates and LR schedules as a small JSON
fixture for optim tests. Run with Debian's torch, then format:
  /usr/bin/python3 make_optim_fixture.py && deno fmt fixtures/optim.json"""
import json
import os

import torch

SHAPES = [[3, 4], [5], [2, 2, 3]]
STEPS = 5
# (step, param index) pairs whose grad is None: PyTorch skips them (their step count lags).
NO_GRAD = {(0, 2), (3, 1)}
LRS = [1e-2, 1e-2, 5e-3, 2e-2, 1e-2]


def floats(t):
    # Shortest decimal strings that read back as the same float32 values (a smaller file).
    return [float(repr(v)) for v in t.detach().reshape(-1).numpy()]


def run(make_opt):
    g = torch.Generator().manual_seed(7)
    params = [torch.randn(s, generator=g).requires_grad_() for s in SHAPES]
    init = [floats(p) for p in params]
    opt = make_opt(params)
    steps = []
    for s in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = LRS[s]
        grads = []
        for k, p in enumerate(params):
            if (s, k) in NO_GRAD:
                p.grad = None
                grads.append(None)
            else:
                p.grad = torch.randn(p.shape, generator=g)
                grads.append(floats(p.grad))
        opt.step()
        steps.append({"lr": LRS[s], "grads": grads, "params": [floats(p) for p in params]})
    return {"shapes": SHAPES, "init": init, "steps": steps}


def warmup_linear_lambda(total, frac):
    warmup = int(frac * total)

    def f(step):
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return f


def lrs(make_sched, base, n):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    sched = make_sched(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def main():
    adamw = {"lr": 1e-2, "betas": [0.9, 0.99], "eps": 1e-8, "weight_decay": 0.1}
    sgd = [
        {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.01, "nesterov": False, "dampening": 0.0},
        {"lr": 1e-2, "momentum": 0.8, "weight_decay": 0.05, "nesterov": True, "dampening": 0.0},
        {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False, "dampening": 0.3},
        {"lr": 1e-2, "momentum": 0.0, "weight_decay": 0.02, "nesterov": False, "dampening": 0.0},
    ]
    fixture = {
        "torch": torch.__version__,
        "adamw": {
            "hyper": adamw,
            **run(lambda ps: torch.optim.AdamW(
                ps, lr=adamw["lr"], betas=tuple(adamw["betas"]), eps=adamw["eps"],
                weight_decay=adamw["weight_decay"])),
        },
        "sgd": [{"hyper": h, **run(lambda ps, h=h: torch.optim.SGD(ps, **h))} for h in sgd],
        "warmup_linear": [
            {"total": t, "warmup_frac": f, "base": 1e-3,
             "lrs": lrs(lambda o, t=t, f=f: torch.optim.lr_scheduler.LambdaLR(
                 o, warmup_linear_lambda(t, f)), 1e-3, t + 2)}
            for t, f in [(20, 0.1), (7, 0.1), (33, 0.25), (1, 0.1)]
        ],
        "cosine": [
            {"total": t, "min_lr": m, "base": 0.1,
             "lrs": lrs(lambda o, t=t, m=m: torch.optim.lr_scheduler.CosineAnnealingLR(
                 o, T_max=t, eta_min=m), 0.1, t + 1)}
            for t, m in [(10, 0.0), (13, 1e-3)]
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "optim.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
