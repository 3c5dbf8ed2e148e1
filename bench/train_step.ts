/**
 * `bench train-step`: one full training step (forward, cross-entropy, backward, AdamW) of
 * torchvision's resnet18 and mobilenet_v2 (10 classes, batch 64, 3×32×32, torchvision init)
 * in steps/s, beside PyTorch CPU (2 threads) doing the same step in the same run; and the
 * ResNet-18 eval forward at 64×3×224×224 (images/s). The notes carry the live device bytes
 * after the first and the last timed step (flat: the step frees everything it allocates).
 */
import { engine } from "../engine/context.ts";
import { keep, scope, tensor } from "../engine/tensor.ts";
import { noGrad } from "../engine/autograd.ts";
import { backward } from "../engine/ops/backward.ts";
import { crossEntropy } from "../engine/ops/softmax.ts";
import { AdamW } from "../engine/optim/adamw.ts";
import { Rng } from "../engine/rng.ts";
import { type ModelName, MODELS } from "../models/registry.ts";
import {
  type BenchOptions,
  type BenchRecord,
  record,
  runTorch,
  timeIt,
  torchAvailable,
} from "./harness.ts";

const CLASSES = 10;

/** Deterministic inputs both sides build the same way. */
function images(b: number, side: number): Float32Array {
  const out = new Float32Array(b * 3 * side * side);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(i * 0.37) + 0.5 * Math.cos(i * 0.011);
  return out;
}

const TORCH_STEP = `
import torchvision
name, B, side, iters, warmup = INPUT["model"], INPUT["batch"], INPUT["side"], INPUT["iters"], INPUT["warmup"]
torch.manual_seed(0)
m = getattr(torchvision.models, name)(num_classes=10)
i = torch.arange(B * 3 * side * side, dtype=torch.float64)
x = (torch.sin(i * 0.37) + 0.5 * torch.cos(i * 0.011)).float().view(B, 3, side, side)
y = torch.arange(B) % 10
opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
m.train()
if name == "mobilenet_v2":
    m.classifier[0].p = 0.0  # as ours: no dropout mask in the timed step
def step():
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(m(x), y)
    loss.backward()
    opt.step()
    return float(loss)
for _ in range(warmup): step()
times = []
for _ in range(iters):
    t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
times.sort()
RESULT = {"seconds": times[len(times) // 2], "best": times[0]}
`;

const TORCH_FORWARD = `
import torchvision
B, side, iters = INPUT["batch"], INPUT["side"], INPUT["iters"]
torch.manual_seed(0)
m = torchvision.models.resnet18().eval()
i = torch.arange(B * 3 * side * side, dtype=torch.float64)
x = (torch.sin(i * 0.37) + 0.5 * torch.cos(i * 0.011)).float().view(B, 3, side, side)
times = []
with torch.no_grad():
    m(x)
    for _ in range(iters):
        t0 = time.perf_counter(); m(x); times.append(time.perf_counter() - t0)
times.sort()
RESULT = {"seconds": times[len(times) // 2], "best": times[0]}
`;

interface TorchTiming {
  seconds: number;
  best: number;
}

async function trainStep(name: ModelName, opts: BenchOptions): Promise<BenchRecord> {
  const batch = 64, side = 32;
  const warmup = 2, iters = opts.quick ? 3 : 8;
  const model = MODELS[name]({ numClasses: CLASSES, rng: Rng.fromSeed(0).stream(name) });
  model.train();
  const optimizer = new AdamW(model.parameters(), { lr: 1e-3 });
  const x = keep(tensor(images(batch, side), [batch, 3, side, side]));
  const y = keep(tensor(Int32Array.from({ length: batch }, (_, i) => i % CLASSES)));
  const live: number[] = [];
  let loss = NaN;
  try {
    const step = async () => {
      const l = scope(() => {
        const out = crossEntropy(model.forward(x), y);
        backward(out);
        return out;
      });
      optimizer.step();
      optimizer.zeroGrad();
      loss = await l.item();
      l.dispose();
      await engine().sync();
      live.push(engine().pool.liveBytes);
    };
    const seconds = await timeIt(step, { warmup, iters });
    const ours = { seconds, throughput: 1 / seconds, unit: "steps/s" };
    const notes = {
      loss,
      liveBytesFirstStep: live[0],
      liveBytesLastStep: live[live.length - 1],
    };
    const caseName = `${name} batch ${batch} 3x${side}x${side} forward+backward+AdamW`;
    if (!(await torchAvailable())) {
      throw new Error("bench train-step needs PyTorch (/usr/bin/python3 with torch)");
    }
    const ref = await runTorch<TorchTiming>(TORCH_STEP, {
      model: name,
      batch,
      side,
      iters,
      warmup,
    });
    return record("train-step", caseName, ours, {
      name: "torch-cpu",
      seconds: ref.seconds,
      throughput: 1 / ref.seconds,
    }, { ...notes, torchBestSeconds: ref.best });
  } finally {
    optimizer.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  }
}

async function forward224(opts: BenchOptions): Promise<BenchRecord> {
  const batch = opts.quick ? 8 : 64, side = 224, iters = opts.quick ? 1 : 2;
  const model = MODELS.resnet18({ numClasses: 1000, rng: Rng.fromSeed(0).stream("resnet18") });
  model.eval();
  const x = keep(tensor(images(batch, side), [batch, 3, side, side]));
  try {
    const run = async () => {
      await scope(() => noGrad(() => model.forward(x))).read();
    };
    const seconds = await timeIt(run, { warmup: 1, iters });
    const ours = { seconds, throughput: batch / seconds, unit: "images/s" };
    const ref = await runTorch<TorchTiming>(TORCH_FORWARD, { batch, side, iters: iters + 1 });
    return record("train-step", `resnet18 eval forward batch ${batch} 3x${side}x${side}`, ours, {
      name: "torch-cpu",
      seconds: ref.seconds,
      throughput: batch / ref.seconds,
    }, { torchBestSeconds: ref.best });
  } finally {
    model.dispose();
    x.dispose();
  }
}

export async function benchTrainStep(opts: BenchOptions): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  for (const name of ["resnet18", "mobilenet_v2"] as const) out.push(await trainStep(name, opts));
  out.push(await forward224(opts));
  return out;
}
