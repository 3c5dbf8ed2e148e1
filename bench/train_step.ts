/**
 * `bench train-step`: one full training step (forward, cross-entropy, backward, AdamW) of
 * torchvision's resnet18 and mobilenet_v2 (10 classes, batch 64, 3×32×32, torchvision init)
 * in steps/s, beside PyTorch CPU (2 threads) doing the same step in the same run (round robin,
 * best of >= 5); and the ResNet-18 eval forward (images/s) at the student's 256×3×32×32 (10
 * classes) and ImageNet's 64×3×224×224 (1000 classes). The notes carry the live device bytes
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
  compare,
  record,
  repetitions,
  timingNotes,
  TorchWorker,
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
name, B, side = INPUT["model"], INPUT["batch"], INPUT["side"]
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
STEPS["train"] = step
`;

const TORCH_FORWARD = `
import torchvision
B, side, classes = INPUT["batch"], INPUT["side"], INPUT["classes"]
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=classes).eval()
i = torch.arange(B * 3 * side * side, dtype=torch.float64)
x = (torch.sin(i * 0.37) + 0.5 * torch.cos(i * 0.011)).float().view(B, 3, side, side)
def step():
    with torch.no_grad():
        m(x)
STEPS[f"forward{side}"] = step
`;

async function trainStep(
  name: ModelName,
  torch: TorchWorker,
  opts: BenchOptions,
): Promise<BenchRecord> {
  const batch = 64, side = 32;
  const warmup = 2, iters = Math.max(repetitions(opts), opts.quick ? 3 : 8);
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
    await torch.exec(TORCH_STEP, { model: name, batch, side });
    const t = await compare([{ name: "ours", run: step }, torch.contender("torch-cpu", "train")], {
      warmup,
      iters,
    });
    const ours = t.get("ours")!, ref = t.get("torch-cpu")!;
    const notes = {
      loss,
      liveBytesFirstStep: live[0],
      liveBytesLastStep: live[live.length - 1],
      ...timingNotes(ours, ref),
    };
    const caseName = `${name} batch ${batch} 3x${side}x${side} forward+backward+AdamW`;
    return record(
      "train-step",
      caseName,
      {
        seconds: ours.best,
        throughput: 1 / ours.best,
        unit: "steps/s",
      },
      { name: "torch-cpu", seconds: ref.best, throughput: 1 / ref.best },
      notes,
    );
  } finally {
    optimizer.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  }
}

/** ResNet-18 eval forward of `batch` images of side `side` (under --quick: a quarter of them). */
async function evalForward(
  torch: TorchWorker,
  opts: BenchOptions,
  { side, batch: full, classes }: { side: number; batch: number; classes: number },
): Promise<BenchRecord> {
  const batch = opts.quick ? full / 4 : full, iters = repetitions(opts);
  const model = MODELS.resnet18({ numClasses: classes, rng: Rng.fromSeed(0).stream("resnet18") });
  model.eval();
  const x = keep(tensor(images(batch, side), [batch, 3, side, side]));
  try {
    const run = async () => {
      const out = scope(() => noGrad(() => model.forward(x)));
      try {
        await out.read();
      } finally {
        out.dispose();
      }
    };
    await torch.exec(TORCH_FORWARD, { batch, side, classes });
    const reference = torch.contender("torch-cpu", `forward${side}`);
    const t = await compare([{ name: "ours", run }, reference], {
      warmup: 1,
      iters,
    });
    const ours = t.get("ours")!, ref = t.get("torch-cpu")!;
    return record(
      "train-step",
      `resnet18 eval forward batch ${batch} 3x${side}x${side}`,
      {
        seconds: ours.best,
        throughput: batch / ours.best,
        unit: "images/s",
      },
      { name: "torch-cpu", seconds: ref.best, throughput: batch / ref.best },
      timingNotes(ours, ref),
    );
  } finally {
    model.dispose();
    x.dispose();
  }
}

export async function benchTrainStep(opts: BenchOptions): Promise<BenchRecord[]> {
  await using torch = await TorchWorker.start();
  if (!torch) throw new Error("bench train-step needs PyTorch (/usr/bin/python3 with torch)");
  const out: BenchRecord[] = [];
  for (const name of ["resnet18", "mobilenet_v2"] as const) {
    out.push(await trainStep(name, torch, opts));
  }
  out.push(await evalForward(torch, opts, { side: 32, batch: 256, classes: CLASSES }));
  out.push(await evalForward(torch, opts, { side: 224, batch: 64, classes: 1000 }));
  return out;
}
