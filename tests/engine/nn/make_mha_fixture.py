"""Records torch.nn.MultiheadAttention (1.13, CPU, float32, batch_first=False) outputs and
gradients as a small JSON fixture. Run with Debian's torch, then format:
  /usr/bin/python3 make_mha_fixture.py && deno fmt fixtures/mha.json"""
import json
import os

import torch

E, H, B = 8, 2, 2


def floats(t):
    # Shortest decimal strings that read back as the same float32 values (a smaller file).
    return [float(repr(v)) for v in t.detach().reshape(-1).numpy()]


def case(mha, name, L, S, mask_kind, g):
    mha.zero_grad(set_to_none=True)
    query = torch.randn(L, B, E, generator=g).requires_grad_()
    if S is None:
        key = value = query
        S = L
    else:
        key = torch.randn(S, B, E, generator=g)
        value = torch.randn(S, B, E, generator=g)
    mask = None
    if mask_kind == "causal":
        mask = torch.triu(torch.full((L, S), float("-inf")), diagonal=1)
    elif mask_kind == "additive":
        mask = torch.randn(L, S, generator=g)
        mask[0, 1] = float("-inf")
    out, _ = mha(query, key, value, attn_mask=mask, need_weights=False)
    probe = torch.randn(out.shape, generator=g)
    (out * probe).sum().backward()
    return {
        "name": name,
        "L": L,
        "S": S,
        "mask": mask_kind,
        "self": key is query,
        "query": floats(query),
        "key": None if key is query else floats(key),
        "value": None if key is query else floats(value),
        # JSON has no infinities: a hidden key (−inf) is written as null.
        "attn_mask": None if mask is None or mask_kind == "causal" else [
            None if v == float("-inf") else v for v in floats(mask)],
        "out": floats(out),
        "probe": floats(probe),
        "grad_query": floats(query.grad),
        "grad_in_proj_weight": floats(mha.in_proj_weight.grad),
        "grad_out_proj_weight": floats(mha.out_proj.weight.grad),
    }


def main():
    torch.manual_seed(3)
    g = torch.Generator().manual_seed(11)
    mha = torch.nn.MultiheadAttention(E, H)
    with torch.no_grad():
        # Non-zero biases, so a bias mix-up cannot pass.
        mha.in_proj_bias.copy_(torch.randn(3 * E, generator=g) * 0.1)
        mha.out_proj.bias.copy_(torch.randn(E, generator=g) * 0.1)
    fixture = {
        "torch": torch.__version__,
        "embed_dim": E,
        "num_heads": H,
        "batch": B,
        "state": {k: floats(v) for k, v in mha.state_dict().items()},
        "cases": [
            case(mha, "self", 4, None, None, g),
            case(mha, "self causal", 5, None, "causal", g),
            case(mha, "cross additive mask", 3, 5, "additive", g),
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "mha.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
