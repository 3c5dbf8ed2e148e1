/**
 * The ActiveKD loss, schedule and optimisation steps against Debian PyTorch's values
 * (fixtures/train_reference.json, from make_fixtures.py).
 */
import assert from "node:assert/strict";
import { activeKdLoss } from "../../../al/train/loss.ts";
import { trainStep } from "../../../al/train/step.ts";
import { type Backbone, DualHeadStudent } from "../../../al/train/student.ts";
import { Linear } from "../../../engine/nn/linear.ts";
import { AdamW } from "../../../engine/optim/adamw.ts";
import { warmupLinear } from "../../../engine/optim/schedule.ts";
import { relu } from "../../../engine/ops/elementwise.ts";
import { backward } from "../../../engine/ops/backward.ts";
import { requireGrad } from "../../../engine/autograd.ts";
import { engine } from "../../../engine/context.ts";
import { scopeAsync, type Tensor, tensor } from "../../../engine/tensor.ts";
import { assertClose, gpuTest } from "../../gpu.ts";

const ref = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/train_reference.json", import.meta.url)),
);

/** relu(Linear(x)) as a backbone, named like the fixture's `backbone.weight`. */
class LinearReluBackbone extends Linear implements Backbone {
  get featureDim(): number {
    return this.outFeatures;
  }
  features(x: Tensor): Tensor {
    return relu(this.forward(x));
  }
}

gpuTest("ActiveKD loss and its gradients match PyTorch", async () => {
  const L = ref.loss;
  const C = L.classes;
  await scopeAsync(async () => {
    const leaf = (v: number[]) => requireGrad(tensor(v, [v.length / C, C]));
    const ceL = leaf(L.ce_labeled);
    const kdL = leaf(L.kd_labeled);
    const kdU = leaf(L.kd_unlabeled);
    const loss = activeKdLoss({
      ceLabeled: ceL,
      kdLabeled: kdL,
      kdUnlabeled: kdU,
      labels: tensor(Int32Array.from(L.labels)),
      teacherLabeled: tensor(L.teacher_labeled, [L.labels.length, C]),
      teacherUnlabeled: tensor(L.teacher_unlabeled, [L.teacher_unlabeled.length / C, C]),
    }, 2);
    backward(loss);
    assertClose([await loss.item()], [L.loss], { rtol: 1e-5, atol: 1e-6, what: "loss" });
    const tol = { rtol: 1e-4, atol: 1e-6 };
    assertClose(await ceL.grad!.read(), L.grad_ce_labeled, { ...tol, what: "d/d ce_L" });
    assertClose(await kdL.grad!.read(), L.grad_kd_labeled, { ...tol, what: "d/d kd_L" });
    assertClose(await kdU.grad!.read(), L.grad_kd_unlabeled, { ...tol, what: "d/d kd_U" });
    for (const t of [ceL, kdL, kdU]) t.grad?.dispose();
  });
});

Deno.test("schedule: warm-up 10% then linear decay matches torch's LambdaLR", () => {
  for (const s of ref.schedule) {
    const ours = Array.from(
      { length: s.steps },
      (_, k) => warmupLinear(k, s.steps, s.lr, s.warmup),
    );
    assertClose(ours, s.lrs, { rtol: 1e-12, atol: 0, what: `${s.steps} steps` });
  }
});

gpuTest("dual-head student: 12 AdamW steps under the schedule match PyTorch", async () => {
  const S = ref.steps;
  const before = engine().pool.liveBytes;
  const student = new DualHeadStudent(new LinearReluBackbone(S.in, S.dim), S.classes);
  const init = new Map(
    Object.entries(S.init as Record<string, number[]>).map(([k, v]) => {
      const shape = k.endsWith("bias") ? [v.length] : [
        v.length / (k.startsWith("backbone") ? S.in : S.dim),
        k.startsWith("backbone") ? S.in : S.dim,
      ];
      return [k, { dtype: "f32" as const, shape, data: Float32Array.from(v) }];
    }),
  );
  student.loadStateDict(init);
  const opt = new AdamW(student.parameters(), { lr: 1e-3, weightDecay: 0.01 });
  const losses: number[] = [];
  let liveAfterFirst = 0;
  for (let k = 0; k < S.steps; k++) {
    const b = S.batches[k];
    await scopeAsync(async () => {
      const loss = trainStep(
        student,
        opt,
        {
          labeled: tensor(b.x_labeled, [S.batch, S.in]),
          labels: tensor(Int32Array.from(b.labels)),
          distill: {
            unlabeled: tensor(b.x_unlabeled, [S.batch, S.in]),
            teacherLabeled: tensor(b.teacher_labeled, [S.batch, S.classes]),
            teacherUnlabeled: tensor(b.teacher_unlabeled, [S.batch, S.classes]),
          },
        },
        warmupLinear(k, S.steps, 1e-3, 0.1),
        2,
      );
      losses.push(await loss.item());
    });
    if (k === 0) liveAfterFirst = engine().pool.liveBytes;
  }
  assert.equal(engine().pool.liveBytes, liveAfterFirst, "live bytes grew across steps");
  assertClose(losses, S.losses, { rtol: 1e-5, atol: 1e-6, what: "losses" });
  for (const [name, t] of student.stateDict()) {
    assertClose(await t.read(), S.final[name], { rtol: 1e-4, atol: 1e-6, what: name });
  }
  opt.dispose();
  student.dispose();
  assert.equal(engine().pool.liveBytes, before, "student and optimiser not freed");
});

/** Float64 CE of `relu(W·x + b)` through the CE head, batch-mean (the no-teacher loss). */
function plainLossRef(S: typeof ref.steps, x: number[], labels: number[]): number {
  const W = S.init["backbone.weight"], b = S.init["backbone.bias"];
  const V = S.init["ce_head.weight"], c = S.init["ce_head.bias"];
  let total = 0;
  for (let n = 0; n < labels.length; n++) {
    const h = Array.from({ length: S.dim }, (_, j) => {
      let s = b[j];
      for (let i = 0; i < S.in; i++) s += W[j * S.in + i] * x[n * S.in + i];
      return Math.max(0, s);
    });
    const z = Array.from({ length: S.classes }, (_, k) => {
      let s = c[k];
      for (let j = 0; j < S.dim; j++) s += V[k * S.dim + j] * h[j];
      return s;
    });
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    total += lse - z[labels[n]];
  }
  return total / labels.length;
}

gpuTest(
  "no teacher: the step's loss is the CE head's cross-entropy; the KD head is untouched",
  async () => {
    const S = ref.steps;
    const student = new DualHeadStudent(new LinearReluBackbone(S.in, S.dim), S.classes);
    student.loadStateDict(
      new Map(
        Object.entries(S.init as Record<string, number[]>).map(([k, v]) => {
          const shape = k.endsWith("bias") ? [v.length] : [
            v.length / (k.startsWith("backbone") ? S.in : S.dim),
            k.startsWith("backbone") ? S.in : S.dim,
          ];
          return [k, { dtype: "f32" as const, shape, data: Float32Array.from(v) }];
        }),
      ),
    );
    const kdBefore = await student.kdHead.weight.read();
    const ceBefore = await student.ceHead.weight.read();
    // Weight decay 0: AdamW would otherwise shrink the unused head too.
    const opt = new AdamW(student.parameters(), { lr: 1e-3, weightDecay: 0 });
    const b = S.batches[0];
    const loss = await scopeAsync(async () => {
      const l = trainStep(
        student,
        opt,
        {
          labeled: tensor(b.x_labeled, [S.batch, S.in]),
          labels: tensor(Int32Array.from(b.labels)),
        },
        1e-3,
        2,
      );
      return await l.item();
    });
    assertClose([loss], [plainLossRef(S, b.x_labeled, b.labels)], {
      rtol: 1e-5,
      atol: 1e-6,
      what: "CE loss",
    });
    assert.deepEqual(await student.kdHead.weight.read(), kdBefore, "the KD head moved");
    assert.notDeepEqual(await student.ceHead.weight.read(), ceBefore, "the CE head did not move");
    opt.dispose();
    student.dispose();
  },
);
