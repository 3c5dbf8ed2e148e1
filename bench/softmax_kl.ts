/**
 * `bench softmax-kl`: the KD loss T²·KL(softmax(t/T) ‖ softmax(s/T)) (and cross-entropy) on
 * [B, C] logits, forward + backward, in rows/s, beside PyTorch CPU (2 threads) doing the same
 * on the same values, timed round robin, best of >= 5 (the losses are compared in the notes).
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
  compare,
  record,
  repetitions,
  timingNotes,
  TorchWorker,
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

/** The two timed steps, "kd" and "ce", each returning its loss. */
const TORCH = `
B, C, T = INPUT["b"], INPUT["c"], INPUT["t"]
i = torch.arange(B * C, dtype=torch.float64)
s = (3 * torch.sin(i * 0.013) + torch.cos(i * 0.7)).float().view(B, C).requires_grad_()
t = (3 * torch.cos(i * 0.011) - torch.sin(i * 0.3)).float().view(B, C)
labels = torch.arange(B) * 7 % C
F = torch.nn.functional
def step(op):
    s.grad = None
    if op == "kd":
        loss = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="batchmean") * T * T
    else:
        loss = F.cross_entropy(s, labels)
    loss.backward()
    return float(loss)
STEPS["kd"] = lambda: step("kd")
STEPS["ce"] = lambda: step("ce")
`;

export async function benchSoftmaxKl(opts: BenchOptions): Promise<BenchRecord[]> {
  const [b, c] = opts.quick ? [512, 1000] : [4096, 1000];
  const iters = Math.max(repetitions(opts), opts.quick ? 5 : 9);
  const sData = logits(b, c, "student");
  const tData = logits(b, c, "teacher");
  const labels = Int32Array.from({ length: b }, (_, i) => (i * 7) % c);
  await using torch = await TorchWorker.start();
  await torch?.exec(TORCH, { b, c, t: TEMPERATURE });
  const s = keep(requireGrad(tensor(sData, [b, c])));
  const t = keep(tensor(tData, [b, c]));
  const y = keep(tensor(labels));
  const out: BenchRecord[] = [];
  try {
    for (const op of ["kd", "ce"] as const) {
      let loss = NaN, torchLoss = NaN;
      // One step's time includes reading the loss back (as a training loop that logs it).
      const ours = {
        name: "ours",
        run: async () => {
          loss = await scope(() => {
            const l = op === "kd" ? kdLoss(s, t, TEMPERATURE) : crossEntropy(s, y);
            backward(l);
            return l;
          }).item();
          s.grad?.dispose();
          s.grad = undefined;
          await engine().sync();
        },
      };
      const reference = torch && {
        name: "torch-cpu",
        run: async () => {
          const r = await torch.time(op);
          torchLoss = r.value as number;
          return r.seconds;
        },
      };
      const timings = await compare(reference ? [ours, reference] : [ours], { warmup: 3, iters });
      const mine = timings.get("ours")!;
      const seconds = mine.best;
      // Memory-bound: the logits read (KD: both) and the gradient written, once each.
      const work = { bytes: 4 * (op === "kd" ? 3 * b * c : 2 * b * c + b) };
      const measure = { seconds, throughput: b / seconds, unit: "rows/s" };
      const name = op === "kd"
        ? `KD loss T=${TEMPERATURE} [${b}, ${c}] forward + backward`
        : `cross-entropy [${b}, ${c}] forward + backward`;
      if (reference) {
        const ref = timings.get("torch-cpu")!;
        out.push(record(
          "softmax-kl",
          name,
          measure,
          { name: "torch-cpu", seconds: ref.best, throughput: b / ref.best },
          { loss, torchLoss, ...timingNotes(mine, ref) },
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
          measure,
          {
            name: "ts-reference (forward only)",
            seconds: refSeconds,
            throughput: b / refSeconds,
          },
          {
            loss,
            referenceLoss: want,
            timing: `ours: best of ${iters}; the reference: one run, after ours`,
            medianSeconds: mine.median,
          },
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
