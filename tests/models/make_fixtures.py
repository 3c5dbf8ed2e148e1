#!/usr/bin/python3
"""Writes the small torchvision fixtures of tests/models/fixtures (own_fixtures_test.ts).

Run with Debian's Python (torch 1.13, torchvision 0.14): /usr/bin/python3 tests/models/make_fixtures.py

The weights are not stored: every state-dict entry is a formula of its position in the state
dict and the element index (`entry_values`, mirrored in own_fixtures_test.ts), so each file holds
only the input, the probe and the expected results:
  output        eval-mode logits
  train_output  train-mode logits (batch statistics); loss = sum(train_output * grad_probe)
  grad.<name>   d loss / d parameter, grad.input = d loss / d input
  after.<name>  BatchNorm running statistics after that train-mode pass (momentum 0.1)
Metadata "names" lists the state dict in order (entry k of the formula); "atol" holds per-tensor
tolerances: 20x the largest |float32 - float64| difference of
the same computation in double precision (the rule of tests/fixtures/reference's atol_tight), at
least 1e-6 of the tensor's largest magnitude.
"""
import json
import math
import os
import struct

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


class SmallResNet(ResNet):
    """torchvision's ResNet with BasicBlocks and conv1 width `width` (stages width*[1,2,4,8])."""

    def __init__(self, width, num_classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = width, 1, 1, 64
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(BasicBlock, width, 2)
        self.layer2 = self._make_layer(BasicBlock, 2 * width, 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, 4 * width, 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, 8 * width, 2, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width, num_classes)


M32 = 0xFFFFFFFF


def hashed(k, n):
    """n values in [-1, 1): a 32-bit integer hash of (entry k, element i), exact on both sides."""
    out = []
    for i in range(n):
        h = (i + k * 0x9E3779B1) & M32
        h ^= h >> 16
        h = (h * 0x85EBCA6B) & M32
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & M32
        h ^= h >> 16
        out.append(h / 2**32 * 2 - 1)
    return torch.tensor(out, dtype=torch.float64)


def entry_values(names, shapes):
    """The formula: values of every state-dict entry (float64, before the float32 cast)."""
    out = {}
    for k, (name, shape) in enumerate(zip(names, shapes)):
        n = math.prod(shape)
        v = hashed(k, n)
        prefix = name.rsplit(".", 1)[0]
        is_bn = f"{prefix}.running_mean" in names
        if name.endswith("running_mean"):
            v = 0.1 * v
        elif name.endswith("running_var"):
            v = 1 + 0.5 * v
        elif name.endswith("num_batches_tracked"):
            v = torch.full((n,), 3.0, dtype=torch.float64)
        elif is_bn and name.endswith("weight"):
            v = 0.75 + 0.25 * v
        elif is_bn and name.endswith("bias"):
            v = 0.1 * v
        elif len(shape) >= 2:
            v = v * math.sqrt(3 / math.prod(shape[1:]))
        else:
            v = 0.1 * v
        out[name] = v.view(shape)
    return out


def pattern(n, a, b):
    i = torch.arange(n, dtype=torch.float64)
    return torch.sin(a * i) + 0.5 * torch.cos(b * i)


def run(model, x, probe, grad_names, bn_names, dtype):
    model = model.to(dtype)
    sd = model.state_dict()
    values = entry_values(list(sd.keys()), [list(t.shape) for t in sd.values()])
    model.load_state_dict({k: v.to(torch.float32).to(sd[k].dtype) for k, v in values.items()})
    if dtype == torch.float64:
        model = model.to(dtype)
    xs = x.to(dtype)
    res = {}
    model.eval()
    with torch.no_grad():
        res["output"] = model(xs)
    model.train()
    xg = xs.clone().requires_grad_()
    out = model(xg)
    res["train_output"] = out.detach()
    (out * probe.to(dtype)).sum().backward()
    params = dict(model.named_parameters())
    for g in grad_names:
        res[f"grad.{g}"] = xg.grad if g == "input" else params[g].grad
    buffers = dict(model.named_buffers())
    for b in bn_names:
        for s in ("running_mean", "running_var"):
            res[f"after.{b}.{s}"] = buffers[f"{b}.{s}"].detach()
    return {k: v.detach().to(torch.float64) for k, v in res.items()}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {k: json.dumps(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":"))
    text += " " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


def make(name, build, input_shape, grad_names, bn_names):
    torch.manual_seed(0)
    n_in = math.prod(input_shape)
    x = pattern(n_in, 0.37, 0.011).to(torch.float32).view(input_shape)
    model32 = build()
    n_out = model32.fc.out_features if hasattr(model32, "fc") else model32.classifier[1].out_features
    probe = torch.cos(0.13 * torch.arange(input_shape[0] * n_out, dtype=torch.float64))
    probe = probe.to(torch.float32).view(input_shape[0], n_out)
    if hasattr(model32, "classifier"):
        model32.classifier[0].p = 0.0  # dropout off, as in tests/fixtures/reference
    model64 = build()
    if hasattr(model64, "classifier"):
        model64.classifier[0].p = 0.0
    r32 = run(model32, x, probe, grad_names, bn_names, torch.float32)
    r64 = run(model64, x, probe, grad_names, bn_names, torch.float64)
    atol = {}
    for k in r32:
        diff = (r32[k] - r64[k]).abs().max().item()
        atol[k] = max(20 * diff, 1e-6 * r64[k].abs().max().item(), 1e-7)
    tensors = {"input": x, "grad_probe": probe, **{k: v for k, v in r32.items()}}
    names = list(build().state_dict().keys())
    meta = {"arch": name, "input_shape": list(input_shape), "atol": atol, "rtol": 1e-4, "names": names}
    os.makedirs(HERE, exist_ok=True)
    path = os.path.join(HERE, f"{name}.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"wrote {path}: {sorted(tensors)}")


def main():
    make(
        "resnet18_w4",
        lambda: SmallResNet(4, 3),
        (3, 3, 29, 29),
        ["conv1.weight", "layer2.0.downsample.0.weight", "layer4.1.bn2.weight", "fc.weight", "input"],
        ["bn1", "layer3.0.downsample.1"],
    )
    make(
        "mobilenet_v2_w050",
        lambda: torchvision.models.mobilenet_v2(num_classes=5, width_mult=0.5),
        (4, 3, 37, 37),
        ["features.0.0.weight", "features.2.conv.1.0.weight", "features.18.1.bias", "classifier.1.weight", "input"],
        ["features.0.1", "features.17.conv.3"],
    )


if __name__ == "__main__":
    main()
