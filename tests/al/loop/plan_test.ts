/**
 * `akd plan`'s figures against the live bytes the real code measures on the device: each phase
 * of a small run (holdout teacher's training step, the student's training step through the
 * trainer, scoring through predictDualHead, pcoreset and coreset selection with their coverage
 * radii) within 10 % of the pool's peak live bytes when run for real; and the limit checks: the
 * largest batch that fits is the boundary, and `checkRunFits` refuses naming the phase.
 */
import assert from "node:assert/strict";
import { gpuTest } from "../../gpu.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import { Rng } from "../../../engine/rng.ts";
import { resolveConfig } from "../../../al/config.ts";
import type { Dataset, ImageSet } from "../../../al/data/image.ts";
import { checkRunFits, type PhasePlan, planRun } from "../../../al/loop/plan.ts";
import { strategySelector } from "../../../al/loop/select.ts";
import { silentProgress } from "../../../al/progress.ts";
import { holdoutClassifier } from "../../../al/teachers/holdout.ts";
import { buildClassifier, buildStudent } from "../../../al/train/backbones.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../../al/data/normalization.ts";
import { ImageInputs } from "../../../al/train/inputs.ts";
import { PREDICT_BATCH, predictDualHead } from "../../../al/train/predict.ts";
import { type TrainData, trainDualHead } from "../../../al/train/trainer.ts";
import { tinySet } from "../teachers/tiny.ts";
import { withTempDir } from "../../temp_dir.ts";
import { fixture } from "../../fixtures.ts";
import { CLIP } from "../../../models/clip/clip.ts";
import { zeroShotLogits } from "../../../models/clip/zeroshot.ts";
import { empty, scope, tensor } from "../../../engine/tensor.ts";
import { TEACHER_BATCH } from "../../../al/teachers/model_teacher.ts";
import { join } from "node:path";

const C = 3;
const TRAIN = 200;
const config = resolveConfig({
  student: "resnet18",
  studentWidth: 4,
  imageSize: 20,
  batchSize: 4,
  teacher: "holdout-classifier",
  teacherArch: "mlp",
  teacherWidth: 16,
  teacherHoldout: 8,
  teacherSteps: 1,
  strategies: ["pcoreset", "coreset"],
  rounds: 2,
  repeat: 1,
});

/** The peak live bytes `fn` adds on the real engine. */
async function measured(fn: () => Promise<void>): Promise<number> {
  const pool = engine().pool;
  await engine().sync();
  const before = pool.liveBytes;
  pool.resetPeak();
  await fn();
  await engine().sync();
  assert.equal(pool.liveBytes, before, "the phase freed what it made");
  return pool.peakLiveBytes - before;
}

/**
 * A real training round of the config's student (4 labeled and 20 unlabeled images of `train`),
 * distilled from `teacher`: cached rows (`teacherOf`) or a per-step model (`teacherPixels`).
 */
async function trainReal(
  inputs: ImageInputs,
  train: ImageSet,
  rng: Rng,
  teacher: Pick<TrainData, "teacherOf" | "teacherPixels">,
): Promise<void> {
  const model = buildStudent(
    config.student,
    C,
    config.imageSize,
    rng.stream("init"),
    config.studentWidth,
  );
  await trainDualHead(
    model,
    inputs,
    {
      labeled: Int32Array.of(0, 1, 2, 3),
      unlabeled: Int32Array.from({ length: 20 }, (_, i) => 10 + i),
      labelOf: (i) => train.labels[i],
      ...teacher,
    },
    config,
    rng,
    silentProgress,
    "train",
  );
  model.dispose();
}

function probRows(rows: number, rng: Rng): Float32Array {
  const out = new Float32Array(rows * C);
  const r = rng.stream("probs");
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += out[i * C + c] = 0.05 + r.uniform();
    for (let c = 0; c < C; c++) out[i * C + c] /= sum;
  }
  return out;
}

gpuTest(
  "akd plan's phase memory is within 10% of the live bytes the real phases reach",
  async () => {
    const plan = await planRun(config, { classes: C, train: TRAIN }, engine().gpu);
    const phase = (name: string, what = "") => {
      const p = plan.phases.find((q: PhasePlan) => q.phase === name && q.what.startsWith(what));
      assert.ok(p, `plan has a ${name} ${what} phase`);
      return p;
    };
    const train = tinySet(TRAIN, C);
    const sets = { train, test: tinySet(40, C, 1) };
    const ds = {
      name: "tiny",
      classes: ["a", "b", "c"],
      splits: { ...sets, val: tinySet(0, C) },
    } as unknown as Dataset;
    const inputs = new ImageInputs(sets, { size: config.imageSize });
    const rng = Rng.fromSeed(3);
    const student = () =>
      buildStudent(config.student, C, config.imageSize, rng.stream("init"), config.studentWidth);
    const real: Record<string, number> = {};

    real.teacher = await measured(() =>
      withTempDir(async (dir) => {
        await holdoutClassifier({
          config,
          ds,
          held: Int32Array.from({ length: 8 }, (_, i) => i),
          progress: silentProgress,
          dir,
        });
      })
    );
    real.train = await measured(async () => {
      const teacher = new Float32Array(C).fill(1);
      await trainReal(inputs, train, rng, { teacherOf: () => teacher });
    });
    real.score = await measured(async () => {
      const model = student();
      const indices = Int32Array.from({ length: PREDICT_BATCH }, (_, i) => i);
      await predictDualHead(model, inputs, "train", indices, silentProgress, "score");
      model.dispose();
    });
    const D = 8 * config.studentWidth!; // ResNet-18's features: 8 × conv1 width
    const N = plan.pool;
    const M = plan.labeled - C; // the last selection's centers (budget = classes)
    for (const strategy of config.strategies) {
      const r = rng.stream(strategy);
      const features = (rows: number) => Float32Array.from({ length: rows * D }, () => r.uniform());
      real[strategy] = await measured(async () => {
        await strategySelector()(
          strategy,
          {
            classes: C,
            dim: D,
            probs: probRows(N, r),
            features: features(N),
            labeledProbs: probRows(M, r),
            labeledFeatures: features(M),
            labeledLabels: new Int32Array(M),
          },
          C,
          r,
        );
      });
    }
    const rows = [
      ["teacher", phase("teacher")],
      ["train", phase("train")],
      ["score", phase("score")],
      ["pcoreset", phase("select", "pcoreset")],
      ["coreset", phase("select", "coreset")],
    ] as const;
    for (const [name, p] of rows) {
      const err = (p.peakBytes - real[name]) / real[name];
      console.log(
        `${name}: plan ${p.peakBytes} B, measured ${real[name]} B (${(100 * err).toFixed(2)}%)`,
      );
      assert.ok(real[name] > 0, `${name}: the real phase allocated`);
      assert.ok(Math.abs(err) <= 0.1, `${name}: plan ${p.peakBytes} vs measured ${real[name]}`);
    }
  },
  { oneBackend: true },
);

gpuTest(
  "augmented teacher input: the train phase holds the teacher and runs it on both batches, " +
    "within 10% of a real augmented step",
  async () => {
    const augmented = { ...config, teacherInput: "augmented" as const };
    const data = { classes: C, train: TRAIN };
    const trainOf = async (c: typeof config) =>
      (await planRun(c, data, engine().gpu)).phases.find((p) => p.phase === "train")!;
    const plan = await trainOf(augmented);
    assert.match(plan.what, /beside the teacher's model, run on both batches$/);
    assert.ok(plan.peakBytes > (await trainOf(config)).peakBytes, "the teacher adds nothing");

    const train = tinySet(TRAIN, C);
    const inputs = new ImageInputs({ train, test: train }, { size: config.imageSize });
    const rng = Rng.fromSeed(4);
    const real = await measured(async () => {
      // The teacher the run holds open: the holdout MLP, in eval mode, as al/teachers does.
      const teacher = buildClassifier(config.teacherArch, C, {
        width: config.teacherWidth,
        imageSize: config.imageSize,
      });
      teacher.eval();
      await trainReal(inputs, train, rng, {
        teacherPixels: {
          input: { size: config.imageSize, mean: IMAGENET_MEAN, std: IMAGENET_STD },
          logits: (x) => teacher.forward(x),
        },
      });
      teacher.dispose();
    });
    const err = (plan.peakBytes - real) / real;
    console.log(
      `augmented train: plan ${plan.peakBytes} B, measured ${real} B (${(100 * err).toFixed(2)}%)`,
    );
    assert.ok(Math.abs(err) <= 0.1, `plan ${plan.peakBytes} vs measured ${real}`);
  },
  { oneBackend: true },
);

gpuTest(
  "the largest batch that fits is the boundary, and run refuses naming the phase",
  async () => {
    const gpu = engine().gpu;
    const data = { classes: C, train: TRAIN };
    const base = await planRun(config, data, gpu);
    const trainNeed = base.phases.find((p) => p.phase === "train")!.deviceBytes;
    // A memory budget just under the training step's need at batch 4.
    const memory = trainNeed - 1;
    const plan = await planRun(config, data, gpu, { memory, search: true });
    const train = plan.phases.find((p) => p.phase === "train")!;
    assert.match(train.exceeds ?? "", /device memory budget/);
    const max = train.maxBatch;
    assert.ok(typeof max === "number" && max >= 1 && max < 4, `largest batch ${max}`);
    const at = async (b: number) =>
      (await planRun({ ...config, batchSize: b }, data, gpu, { memory })).phases
        .find((p) => p.phase === "train")!.exceeds;
    assert.equal(await at(max), undefined, `batch ${max} fits`);
    assert.notEqual(await at(max + 1), undefined, `batch ${max + 1} does not`);

    // The engine's own refusal (an activation past the binding limit) is a phase that does not
    // fit; run refuses before any round, naming the phase, the limit and the largest batch.
    // On an adapter with llvmpipe's 128 MiB bindings (whatever this one has).
    const small = { ...gpu, limits: { ...gpu.limits, maxStorageBufferBindingSize: 2 ** 27 } };
    const big = { ...config, teacher: "logits:unused.safetensors", imageSize: 2048, batchSize: 64 };
    await assert.rejects(
      () => checkRunFits(big, data, small),
      (e: Error) =>
        e instanceof InputError &&
        /^plan: the train phase \(.*batch 64\) does not fit this adapter: .*binding limit.*; the largest batch that fits is \d+ \(akd plan/
          .test(e.message),
    );
    await checkRunFits(config, data, gpu); // fits: no error
  },
  { oneBackend: true },
);

gpuTest(
  "the CLIP teacher phase matches a real zero-shot batch (ResNet and ViT towers); CLAP's student phases carry the CLIP it keeps",
  async () => {
    for (const tower of ["clip_rn", "clip_vit"]) {
      await withTempDir(async (dir) => {
        const weights = join(dir, "tiny.safetensors");
        await Deno.copyFile(fixture(tower, "model.safetensors"), weights);
        // findClipFiles wants a vocabulary beside the weights; the plan never reads it.
        await Deno.writeFile(join(dir, "bpe_simple_vocab_16e6.txt.gz"), new Uint8Array());
        const zs = { ...config, teacher: "clip-zeroshot", clip: dir };
        const plan = await planRun(zs, { classes: C, train: TRAIN }, engine().gpu);
        const p = plan.phases.find((q) => q.phase === "teacher")!;
        assert.match(p.what, /CLIP image tower: zero-shot logits/);
        const real = await measured(async () => {
          const clip = await CLIP.load(weights);
          const R = clip.config.imageResolution;
          const w = empty([clip.config.embedDim, C]);
          const x = Float32Array.from({ length: TEACHER_BATCH * 3 * R * R }, (_, i) => Math.sin(i));
          const z = scope(() =>
            zeroShotLogits(clip.encodeImage(tensor(x, [TEACHER_BATCH, 3, R, R])), w)
          );
          await z.read();
          z.dispose();
          w.dispose();
          clip.dispose();
        });
        // CLAP keeps CLIP and its class weights on the device all run: its student phases carry
        // them, as loading them for real shows.
        const clap = await planRun(
          { ...zs, teacher: "clap" },
          { classes: C, train: TRAIN },
          engine().gpu,
        );
        const before = engine().pool.liveBytes;
        const clip = await CLIP.load(weights);
        const held = engine().pool.liveBytes - before +
          2 * Math.ceil(clip.config.embedDim * C / 4) * 16;
        clip.dispose();
        const trainOf = (q: typeof plan) => q.phases.find((x) => x.phase === "train")!;
        assert.equal(trainOf(clap).peakBytes - trainOf(plan).peakBytes, held);
        assert.match(trainOf(clap).what, /beside the CLIP model the teacher keeps/);
        const err = (p.peakBytes - real) / real;
        console.log(
          `${tower} teacher: plan ${p.peakBytes} B, measured ${real} B (${
            (100 * err).toFixed(2)
          }%)`,
        );
        assert.ok(Math.abs(err) <= 0.1, `${tower}: plan ${p.peakBytes} vs measured ${real}`);
      });
    }
  },
  { oneBackend: true },
);
