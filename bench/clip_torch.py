# PyTorch CPU reference for `bench clip`: the CLIP image towers (ModifiedResNet, ViT) and the
# text tower with random weights, in eval mode under no_grad, as the step STEPS[INPUT["tower"]].
# Run by bench/harness.ts `TorchWorker.exec`, which defines torch, INPUT and STEPS. Written for
# this benchmark (same architectures as models/clip, no downloads).
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    """Pre-norm residual attention block (ln_1, attention, ln_2, c_fc/QuickGELU/c_proj)."""

    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x, mask=None):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.c_proj(quick_gelu(self.c_fc(self.ln_2(x))))


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        out = planes * 4
        self.conv1, self.bn1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out)
        self.stride = stride
        self.down = None
        if stride > 1 or cin != out:
            self.down = nn.Sequential(nn.Conv2d(cin, out, 1, bias=False), nn.BatchNorm2d(out))

    def pool(self, x):
        return F.avg_pool2d(x, self.stride) if self.stride > 1 else x

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(self.pool(y)))
        skip = x if self.down is None else self.down(self.pool(x))
        return F.relu(y + skip)


class ModifiedResNet(nn.Module):
    def __init__(self, layers, width, heads, resolution, output_dim):
        super().__init__()
        half = width // 2
        self.stem = nn.Sequential(
            nn.Conv2d(3, half, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
            nn.Conv2d(half, half, 3, padding=1, bias=False), nn.BatchNorm2d(half), nn.ReLU(),
            nn.Conv2d(half, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.AvgPool2d(2))
        blocks, cin = [], width
        for i, n in enumerate(layers):
            planes = width * 2 ** i
            for j in range(n):
                blocks.append(Bottleneck(cin, planes, 2 if (i > 0 and j == 0) else 1))
                cin = planes * 4
        self.blocks = nn.Sequential(*blocks)
        dim = width * 32
        self.pos = nn.Parameter(torch.randn((resolution // 32) ** 2 + 1, dim) / dim ** 0.5)
        self.attn = nn.MultiheadAttention(dim, heads)
        self.c_proj = nn.Linear(dim, output_dim)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = x.flatten(2).permute(2, 0, 1)  # (HW)NC
        x = torch.cat([x.mean(0, keepdim=True), x]) + self.pos[:, None, :]
        # Only the mean token's output is used: query with it alone (what models/clip does too).
        return self.c_proj(self.attn(x[:1], x, x, need_weights=False)[0][0])


class VisionTransformer(nn.Module):
    def __init__(self, resolution, patch, width, layers, heads, output_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, stride=patch, bias=False)
        self.cls = nn.Parameter(torch.randn(width) * width ** -0.5)
        self.pos = nn.Parameter(torch.randn((resolution // patch) ** 2 + 1, width) * width ** -0.5)
        self.ln_pre, self.ln_post = nn.LayerNorm(width), nn.LayerNorm(width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.proj = nn.Parameter(torch.randn(width, output_dim) * width ** -0.5)

    def forward(self, x):
        x = self.conv1(x).flatten(2).permute(2, 0, 1)  # LND
        x = torch.cat([self.cls.expand(1, x.shape[1], -1), x]) + self.pos[:, None, :]
        x = self.ln_pre(x)
        for b in self.blocks:
            x = b(x)
        return self.ln_post(x[0]) @ self.proj


class TextTransformer(nn.Module):
    def __init__(self, vocab, context, width, layers, heads, output_dim):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_final = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, output_dim) * width ** -0.5)
        self.register_buffer("mask", torch.full((context, context), float("-inf")).triu(1))

    def forward(self, ids):
        x = (self.tok(ids) + self.pos).permute(1, 0, 2)
        for b in self.blocks:
            x = b(x, self.mask)
        x = self.ln_final(x.permute(1, 0, 2))
        return x[torch.arange(x.shape[0]), ids.argmax(-1)] @ self.proj


c = INPUT["config"]
if INPUT["tower"] == "image":
    if c["visionPatchSize"] is None:
        model = ModifiedResNet(c["visionLayers"], c["visionWidth"], c["visionHeads"],
                               c["imageResolution"], c["embedDim"])
    else:
        model = VisionTransformer(c["imageResolution"], c["visionPatchSize"], c["visionWidth"],
                                  c["visionLayers"], c["visionHeads"], c["embedDim"])
    r = c["imageResolution"]
    x = torch.randn(INPUT["batch"], 3, r, r)
else:
    model = TextTransformer(c["vocabSize"], c["contextLength"], c["transformerWidth"],
                            c["transformerLayers"], c["transformerHeads"], c["embedDim"])
    x = torch.randint(0, c["vocabSize"] - 1, (INPUT["batch"], c["contextLength"]))
    x[torch.arange(INPUT["batch"]), INPUT["eot"]] = c["vocabSize"] - 1
model.eval()


def step():
    with torch.no_grad():
        model(x)


STEPS[INPUT["tower"]] = step
