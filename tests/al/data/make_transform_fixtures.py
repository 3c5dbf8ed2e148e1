#!/usr/bin/python3
"""Reference values for al/data/transforms.ts and al/data/decode.ts.

Run with Debian's interpreter (torch 1.13, torchvision 0.14, PIL):
    /usr/bin/python3 tests/al/data/make_transform_fixtures.py
Writes tests/al/data/fixtures/transforms.json (torchvision tensor transforms, float64) and
tests/al/data/fixtures/decode.json (small JPEG/PNG files with the pixels PIL decodes).
Tensors are stored exactly, as base64 of their little-endian bytes ("f64" or "u8"), which keeps
the files small and stable under `deno fmt` (run on them afterwards, when deno is on PATH).
"""
import base64
import io
import json
import math
import os
import random
import shutil
import subprocess

import numpy as np
import torch
import torchvision.transforms.functional as F
import torchvision.transforms.transforms as TT
from PIL import Image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def image(t):
    if t.dtype == torch.uint8:
        return {"shape": list(t.shape), "u8": b64(t.numpy().astype("<u1"))}
    return {"shape": list(t.shape), "f64": b64(t.numpy().astype("<f8"))}


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def transforms_fixture():
    gen = torch.Generator().manual_seed(7)
    x = torch.rand(3, 11, 9, generator=gen, dtype=torch.float64)
    out = {"input": image(x), "resize": [], "center_crop": [], "shorter_side": []}
    for interpolation in ["bilinear", "bicubic"]:
        mode = getattr(F.InterpolationMode, interpolation.upper())
        for antialias in [True, False]:
            for size in [[2, 2], [4, 5], [15, 14], [6, 13]]:
                y = F.resize(x, size, interpolation=mode, antialias=antialias)
                out["resize"].append(
                    {"interpolation": interpolation, "antialias": antialias, "output": image(y)}
                )

    # The uint8 path (decode cache): float32 math inside torchvision, then round.
    u8 = (torch.rand(3, 23, 19, generator=gen) * 255).round().to(torch.uint8)
    out["uint8_input"] = image(u8)
    out["resize_uint8"] = []
    for interpolation in ["bilinear", "bicubic"]:
        mode = getattr(F.InterpolationMode, interpolation.upper())
        y = F.resize(u8, [8, 7], interpolation=mode, antialias=True)
        out["resize_uint8"].append({"interpolation": interpolation, "output": image(y)})

    for h, w, size in [(480, 640, 224), (640, 480, 224), (500, 333, 256), (333, 500, 256),
                       (224, 224, 224), (37, 1000, 224), (7, 5, 3)]:
        new = F._compute_resized_output_size((h, w), [size])
        out["shorter_side"].append({"height": h, "width": w, "size": size, "output": list(new)})

    for size in [[5, 4], [6, 6], [8, 3], [13, 7], [12, 12], [11, 9]]:
        out["center_crop"].append({"size": size, "output": image(F.center_crop(x, size))})

    box = [2, 1, 7, 6]
    y = F.resized_crop(x, *box, [5, 8], interpolation=F.InterpolationMode.BILINEAR, antialias=True)
    out["resized_crop"] = {"box": box, "size": [5, 8], "output": image(y)}
    out["hflip"] = image(F.hflip(x))
    clip_mean = (0.48145466, 0.4578275, 0.40821073)
    clip_std = (0.26862954, 0.26130258, 0.27577711)
    out["normalize_clip"] = image(F.normalize(x, clip_mean, clip_std))
    out["rrc"] = rrc_cases()
    return out


class ScriptedTorch:
    """Stands in for `torch` inside torchvision's RandomResizedCrop.get_params: every random
    draw takes the next number of a fixed list, so the TypeScript side can replay it.
    uniform_(a, b) -> a + (b - a) u; randint(lo, hi) -> lo + floor(u (hi - lo))."""

    def __init__(self, draws):
        self.draws = list(draws)
        self.used = 0

    def _next(self):
        u = self.draws[self.used]
        self.used += 1
        return u

    def empty(self, *_):
        scripted = self

        class Slot:
            def uniform_(self, a, b):
                a, b = float(a), float(b)
                return torch.tensor([a + (b - a) * scripted._next()], dtype=torch.float64)

        return Slot()

    def randint(self, low, high, size):
        return torch.tensor([low + math.floor(self._next() * (high - low))])

    def __getattr__(self, name):
        return getattr(torch, name)


def rrc_cases():
    cases = []
    settings = [
        (224, 224, (0.08, 1.0), (3 / 4, 4 / 3)),
        (300, 500, (0.5, 1.0), (3 / 4, 4 / 3)),
        (375, 500, (0.08, 1.0), (3 / 4, 4 / 3)),
        (37, 29, (0.5, 1.0), (3 / 4, 4 / 3)),
        (10, 100, (0.9, 1.0), (3 / 4, 4 / 3)),  # too wide: falls back, ratio clamped
        (100, 10, (0.9, 1.0), (3 / 4, 4 / 3)),  # too tall: falls back, ratio clamped
        (20, 20, (1.5, 2.0), (3 / 4, 4 / 3)),  # never fits: falls back to the whole image
    ]
    rng = random.Random(11)
    real_torch = TT.torch
    try:
        for h, w, scale, ratio in settings:
            for _ in range(4):
                draws = [rng.random() for _ in range(24)]
                TT.torch = ScriptedTorch(draws)
                img = torch.zeros(1, h, w)
                box = TT.RandomResizedCrop.get_params(img, list(scale), list(ratio))
                cases.append({"height": h, "width": w, "scale": scale, "ratio": ratio,
                              "draws": draws[:TT.torch.used], "box": list(box)})
    finally:
        TT.torch = real_torch
    return cases


def decode_fixture():
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:12, 0:16]
    rgb = np.stack([x * 15, y * 20, (x + y) * 9], -1).astype(np.uint8)
    files = []

    def add(name, img, fmt, expected=None, **save):
        buf = io.BytesIO()
        img.save(buf, fmt, **save)
        if expected is None:
            expected = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        files.append({"name": name, "bytes": base64.b64encode(buf.getvalue()).decode(),
                      "width": img.width, "height": img.height,
                      "rgb": b64(expected.astype(np.uint8))})

    base = Image.fromarray(rgb)
    # JPEG pixels come from libjpeg (PIL); jpeg-js rounds its IDCT and upsamples chroma
    # differently, so the tests compare these with a tolerance.
    add("baseline_444.jpg", base, "JPEG", quality=95, subsampling=0)
    add("progressive_444.jpg", base, "JPEG", quality=95, subsampling=0, progressive=True)
    add("progressive_420.jpg", base, "JPEG", quality=95, subsampling=2, progressive=True)
    add("grey.jpg", base.convert("L"), "JPEG", quality=95)
    add("rgb.png", base, "PNG")
    add("grey.png", base.convert("L"), "PNG")
    add("bilevel.png", base.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1"),
        "PNG")
    add("palette.png", base.quantize(colors=7), "PNG")
    rgba = np.concatenate([rgb, rng.integers(0, 256, (12, 16, 1), dtype=np.uint8)], -1)
    add("rgba.png", Image.fromarray(rgba, "RGBA"), "PNG")
    add("grey_alpha.png", Image.fromarray(rgba, "RGBA").convert("LA"), "PNG")
    grey16 = (x * 4000 + y * 300).astype(np.uint16)
    exact = np.round(grey16 / 257).astype(np.uint8)
    add("grey16.png", Image.fromarray(grey16, "I;16"), "PNG",
        expected=np.repeat(exact[..., None], 3, -1))
    return {"files": files}


def write(name, obj):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    if shutil.which("deno"):
        subprocess.run(["deno", "fmt", "-q", path], check=True)
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    write("transforms.json", transforms_fixture())
    write("decode.json", decode_fixture())
