/**
 * `bench softmax-kl`: the KD loss T²·KL(softmax(t/T) ‖ softmax(s/T)) (and cross-entropy) on
 * [B, C] logits, forward + backward, in rows/s, beside PyTorch CPU (2 threads) doing the same
 * on the same values (the losses are compared in the notes).
 */
import { engine } from "../engine/context.ts";
import { keep, scope, tensor } from "../engine/tensor.ts";
import { requireGrad } from "../engine/autograd.ts";
import { backward } from "../engine/ops/backward.ts";
import { crossEntropy, kdLoss } from "../engine/ops/softmax.ts";
import { crossEntropyReference, kdReference } from "../kernels/softmax/softmax.ts";
import {
  type BenchOptions,
  type BenchRecord,
  record,
  runTorch,
  timeIt,
  torchAvailable,
} from "./harness.ts";

const TEMPERATURE = 2;

/** Deterministic logits both sides can build: f32 of a float64 formula. */
function logits(b: number, c: number, which: "student" | "teacher"): Float32Array {
  const out = new Float32Array(b * c);
  for (let i = 0; i < out.length; i++) {
    out[i] = which === "student"
      ? 3 * Math.sin(i * 0.013) + Math.cos(i * 0.7)
      : 3 * Math.cos(i * 0.011) - Math.sin(i * 0.3);
  }
  return out;
}

const TORCH = `
import math
B, C, T, op, iters = INPUT["b"], INPUT["c"], INPUT["t"], INPUT["op"], INPUT["iters"]
i = torch.arange(B * C, dtype=torch.float64)
s = (3 * torch.sin(i * 0.013) + torch.cos(i * 0.7)).float().view(B, C).requires_grad_()
t = (3 * torch.cos(i * 0.011) - torch.sin(i * 0.3)).float().view(B, C)
labels = torch.arange(B) * 7 % C
F = torch.nn.functional
def step():
    s.grad = None
    if op == "kd":
        loss = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean") * T * T
    else:
        loss = F.cross_entropy(s, labels)
    loss.backward()
    return loss
for _ in range(3): step()
times = []
for _ in range(iters):
    t0 = time.perf_counter(); loss = step(); times.append(time.perf_counter() - t0)
times.sort()
RESULT = {"seconds": times[len(times) // 2], "best": times[0], "loss": float(loss)}
`;

export async function benchSoftmaxKl(opts: BenchOptions): Promise<BenchRecord[]> {
  const [b, c] = opts.quick ? [512, 1000] : [4096, 1000];
  const iters = opts.quick ? 5 : 9;
  const sData = logits(b, c, "student");
  const tData = logits(b, c, "teacher");
  const labels = Int32Array.from({ length: b }, (_, i) => (i * 7) % c);
  const s = keep(requireGrad(tensor(sData, [b, c])));
  const t = keep(tensor(tData, [b, c]));
  const y = keep(tensor(labels));
  const out: BenchRecord[] = [];
  try {
    for (const op of ["kd", "ce"] as const) {
      let loss = NaN;
      const times: number[] = [];
      const step = async () => {
        const t0 = performance.now();
        loss = await scope(() => {
          const l = op === "kd" ? kdLoss(s, t, TEMPERATURE) : crossEntropy(s, y);
          backward(l);
          return l;
        }).item();
        s.grad?.dispose();
        s.grad = undefined;
        await engine().sync();
        times.push((performance.now() - t0) / 1000);
      };
      // One step's time includes reading the loss back (as a training loop that logs it).
      const seconds = await timeIt(step, { warmup: 3, iters });
      // Medians make the ratio; the best times show what a quiet machine gives (on a loaded
      // 2-core machine PyTorch's two threads lose the most).
      const best = Math.min(...times.slice(3));
      // Memory-bound: the logits read (KD: both) and the gradient written, once each.
      const work = { bytes: 4 * (op === "kd" ? 3 * b * c : 2 * b * c + b) };
      const ours = { seconds, throughput: b / seconds, unit: "rows/s" };
      const name = op === "kd"
        ? `KD loss T=${TEMPERATURE} [${b}, ${c}] forward + backward`
        : `cross-entropy [${b}, ${c}] forward + backward`;
      if (await torchAvailable()) {
        const ref = await runTorch<{ seconds: number; best: number; loss: number }>(TORCH, {
          b,
          c,
          t: TEMPERATURE,
          op,
          iters,
        });
        out.push(record(
          "softmax-kl",
          name,
          ours,
          {
            name: "torch-cpu",
            seconds: ref.seconds,
            throughput: b / ref.seconds,
          },
          { loss, torchLoss: ref.loss, bestSeconds: best, torchBestSeconds: ref.best },
          work,
        ));
      } else {
        const t0 = performance.now();
        const want = op === "kd"
          ? kdReference(sData, tData, b, c, TEMPERATURE)
          : crossEntropyReference(sData, labels, b, c);
        const refSeconds = (performance.now() - t0) / 1000;
        out.push(record(
          "softmax-kl",
          name,
          ours,
          {
            name: "ts-reference (forward only)",
            seconds: refSeconds,
            throughput: b / refSeconds,
          },
          { loss, referenceLoss: want },
          work,
        ));
      }
    }
  } finally {
    s.dispose();
    t.dispose();
    y.dispose();
  }
  return out;
}
