"""Converts an official Tip-Adapter-F fit (.pt files) to the safetensors file `akd` loads with
`--teacher tip-adapter-f:FILE` (docs/tip_adapter.md). Developer tooling: needs PyTorch, never run
by akd itself.

The Tip-Adapter code saves, in its cache dir, `keys_<S>shots.pt` (the cache keys, [E, M]),
`values_<S>shots.pt` (one-hot labels, [M, C]) and, after fine-tuning, `best_F_<S>shots.pt` (the
adapter weight: the fine-tuned keys, [M, E]). α and β are printed by its search, not saved: pass
them. The output holds F32 `keys` [M, E] (L2-normalised rows as fitted: not renormalised),
`values` [M, C], scalars `alpha`, `beta`, and metadata `clip_sha256`, the SHA-256 of the CLIP
weights file akd will run with (the features the keys were fitted on must come from it).

Usage:
  python3 tools/convert_tip_adapter.py --values values_16shots.pt \
      (--adapter best_F_16shots.pt | --keys keys_16shots.pt) \
      --alpha A --beta B --clip RN50.safetensors --out fit.safetensors
"""
import argparse
import hashlib
import json
import struct
import sys

import torch


def fail(message):
    print(f"convert_tip_adapter: {message}", file=sys.stderr)
    sys.exit(2)


def load_tensor(path):
    t = torch.load(path, map_location="cpu")
    if isinstance(t, torch.nn.Parameter):
        t = t.data
    if not isinstance(t, torch.Tensor):
        fail(f"{path}: expected a tensor, found {type(t).__name__}")
    return t.detach().float().contiguous()


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset, blobs = 0, []
    for name, t in tensors.items():
        data = struct.pack(f"<{t.numel()}f", *t.reshape(-1).tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--values", required=True)
    keys = p.add_mutually_exclusive_group(required=True)
    keys.add_argument("--adapter", help="best_F_<S>shots.pt: fine-tuned keys [M, E]")
    keys.add_argument("--keys", help="keys_<S>shots.pt: training-free keys [E, M]")
    p.add_argument("--alpha", type=float, required=True)
    p.add_argument("--beta", type=float, required=True)
    p.add_argument("--clip", required=True, help="the CLIP .safetensors akd runs with")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    values = load_tensor(a.values)
    k = load_tensor(a.adapter) if a.adapter else load_tensor(a.keys).t().contiguous()
    if values.dim() != 2 or k.dim() != 2 or k.shape[0] != values.shape[0]:
        fail(f"keys {list(k.shape)} and values {list(values.shape)}: expected [M, E] and [M, C]")
    with open(a.clip, "rb") as fh:
        clip_sha256 = hashlib.sha256(fh.read()).hexdigest()
    write_safetensors(a.out, {"keys": k, "values": values, "alpha": torch.tensor(a.alpha),
                              "beta": torch.tensor(a.beta)}, {"clip_sha256": clip_sha256})


if __name__ == "__main__":
    main()
