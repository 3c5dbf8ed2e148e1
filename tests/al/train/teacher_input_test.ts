/**
 * Teacher input (docs/method.md §1 "Teacher input"). `augmented`: the teacher's per-step forward
 * gets exactly the crops and flips the student got, each model with its own size and
 * normalisation. With augmentation off the two modes train bit-identical students; with it on,
 * the student's inputs stay bit-identical and only the teacher's targets (so the student) differ.
 * `auto` resolves by adapter kind; `logits:FILE` cannot see pixels.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../../../al/config.ts";
import type { Image, ImageSet } from "../../../al/data/image.ts";
import { labeledBatches, UnlabeledCycler } from "../../../al/data/loader.ts";
import {
  CLIP_MEAN,
  CLIP_STD,
  IMAGENET_MEAN,
  IMAGENET_STD,
} from "../../../al/data/normalization.ts";
import { drawTrainView } from "../../../al/data/transforms.ts";
import { trainViewInto } from "../../../al/data/resample.ts";
import type { ExperimentData, Predictions } from "../../../al/ports.ts";
import { silentProgress } from "../../../al/progress.ts";
import { LogitsCache } from "../../../al/teachers/cache.ts";
import { type LogitsModel, modelTeacher } from "../../../al/teachers/model_teacher.ts";
import { resolveTeacherInput } from "../../../al/teachers/open.ts";
import { ImageInputs, type InputOptions, type ModelInput } from "../../../al/train/inputs.ts";
import { GpuLearner } from "../../../al/train/learner.ts";
import { MlpBackbone, MlpClassifier } from "../../../al/train/mlp.ts";
import { type Backbone, DualHeadStudent } from "../../../al/train/student.ts";
import { trainDualHead, type TrainSettings } from "../../../al/train/trainer.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import { Rng } from "../../../engine/rng.ts";
import { keep, type Tensor } from "../../../engine/tensor.ts";
import { assertClose, gpuTest } from "../../gpu.ts";
import { withTempDir } from "../../temp_dir.ts";

const C = 3;
const SIDE = 10;
const TEACHER_NORM = { mean: CLIP_MEAN, std: CLIP_STD };
const SETTINGS: TrainSettings = {
  repeat: 3,
  batchSize: 4,
  lr: 3e-3,
  weightDecay: 0.01,
  warmup: 0.1,
  temperature: 2,
};

/** n square images whose brightness encodes the label, textured so that crops differ. */
function squareSet(n: number, salt = 0): ImageSet {
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 5 + salt) % C);
  const images: Image[] = Array.from({ length: n }, (_, i) => {
    const data = new Uint8Array(SIDE * SIDE * 3);
    for (let p = 0; p < data.length; p++) {
      data[p] = (labels[i] * 70 + ((p * 37 + i * 11 + salt) % 53)) % 256;
    }
    return { width: SIDE, height: SIDE, channels: 3, data };
  });
  return { length: n, labels, get: (i) => images[i], source: (i) => `square#${i}` };
}

/** x · std[c] + mean[c] per channel plane of a batch [n, 3, s, s]: the [0, 1] pixels. */
function unnormalize(x: Float32Array, size: number, m: Pick<ModelInput, "mean" | "std">) {
  const plane = size * size;
  return Float64Array.from(x, (v, k) => {
    const c = Math.floor(k / plane) % 3;
    return v * m.std[c] + m.mean[c];
  });
}

/**
 * The normalised pixels model `m` gets from the drawn `view` of `img` (the fused resampler, itself
 * tested against the float64 reference in tests/al/data/resample_test.ts).
 */
function viewOf(img: Image, view: ReturnType<typeof drawTrainView>, m: ModelInput): number[] {
  const out = new Float32Array(3 * m.size * m.size);
  trainViewInto(img, view, m.size, "bilinear", m, out, 0);
  return Array.from(out);
}

Deno.test("trainViews: the student's batch is trainBatch's; a teacher's view shares each crop and flip", async () => {
  const train = squareSet(12);
  const inputs = new ImageInputs({ train, test: train }, { size: 8 });
  const idx = Int32Array.of(0, 3, 5, 7, 9, 11, 2, 4, 6, 8);
  const augment = () => Rng.fromSeed(3).stream("augment");
  const teacher = { size: 12, ...TEACHER_NORM };
  const [s, t] = await inputs.trainViews(idx, augment(), [teacher]);
  // The student's pixels and the draws are those of the cached mode (trainBatch).
  assert.deepEqual(s, await inputs.trainBatch(idx, augment()));
  // The teacher's pixels are the same drawn crop and flip at its size and normalisation.
  const rng = augment();
  const views = Array.from(idx, () => drawTrainView(SIDE, SIDE, rng));
  assert.ok(views.some((v) => v.flip) && views.some((v) => !v.flip), "flips not both drawn");
  assert.ok(views.some((v) => v.box.width < SIDE), "every crop is the whole image");
  const student = { size: 8, mean: IMAGENET_MEAN, std: IMAGENET_STD };
  const img = (k: number) => train.get(idx[k]) as Image;
  assert.deepEqual(s, Float32Array.from(views.flatMap((v, k) => viewOf(img(k), v, student))));
  assert.deepEqual(t, Float32Array.from(views.flatMap((v, k) => viewOf(img(k), v, teacher))));
  // At one size the two views are the same pixels under two normalisations.
  const [s8, t8] = await inputs.trainViews(idx, augment(), [{ size: 8, ...TEACHER_NORM }]);
  assert.deepEqual(s8, s);
  assertClose(unnormalize(t8, 8, TEACHER_NORM), unnormalize(s8, 8, student), {
    rtol: 0,
    atol: 1e-6,
    what: "un-normalised teacher vs student pixels",
  });
  assert.ok(t8.some((v, k) => Math.abs(v - s8[k]) > 1e-3), "the normalisations do not differ");
});

Deno.test("teacherInput: auto is augmented on hardware and cached on software; logits:FILE cannot see pixels", () => {
  const cfg = (teacher: string, teacherInput?: string) =>
    resolveConfig({ teacher, ...(teacherInput ? { teacherInput } : {}) });
  for (
    const spec of ["clip-zeroshot", "clap", "tip-adapter-f", "holdout-classifier", "classifier:x"]
  ) {
    assert.equal(resolveTeacherInput(cfg(spec), false), "augmented", spec);
    assert.equal(resolveTeacherInput(cfg(spec), true), "cached", spec);
    assert.equal(resolveTeacherInput(cfg(spec, "augmented"), true), "augmented", spec);
    assert.equal(resolveTeacherInput(cfg(spec, "cached"), false), "cached", spec);
  }
  assert.equal(resolveTeacherInput(cfg("logits:t.safetensors"), false), "cached");
  assert.equal(resolveTeacherInput(cfg("logits:t.safetensors", "cached"), false), "cached");
  assert.throws(
    () => resolveTeacherInput(cfg("logits:t.safetensors", "augmented"), false),
    (e) =>
      e instanceof InputError && /^--teacher-input augmented: teacher logits:t\.safetensors/
        .test(e.message),
  );
  assert.throws(
    () => resolveConfig({ teacher: "none", teacherInput: "augmented" }),
    (e) =>
      e instanceof InputError && /"teacherInput": has no meaning with teacher none/.test(e.message),
  );
  assert.throws(
    () => resolveConfig({}, { teacherInput: "sometimes" }),
    (e) => e instanceof InputError && e.message.startsWith("--teacher-input:"),
  );
});

/** A student that keeps every input it is given (the test reads and frees them). */
class SpyStudent extends DualHeadStudent {
  readonly seen: Tensor[] = [];
  constructor(backbone: Backbone, rng: Rng) {
    super(backbone, C, rng);
  }
  override forward(x: Tensor) {
    this.seen.push(keep(x));
    return super.forward(x);
  }
  override forwardKd(x: Tensor) {
    this.seen.push(keep(x));
    return super.forwardKd(x);
  }
}

function spyStudent(size: number, rng: Rng): SpyStudent {
  return new SpyStudent(new MlpBackbone(3 * size * size, 16, 8, rng.stream("backbone")), rng);
}

/** A fixed MLP classifier as a teacher on `input`; `seen` keeps what it was given. */
function mlpTeacher(input: ModelInput, rng: Rng) {
  const model = new MlpClassifier(3 * input.size ** 2, 16, C, rng);
  model.eval().setRequiresGrad(false);
  const seen: Tensor[] = [];
  return {
    seen,
    input,
    logits(x: Tensor) {
      seen.push(keep(x));
      return model.forward(x);
    },
    dispose: () => model.dispose(),
  } satisfies LogitsModel & { seen: Tensor[] };
}

async function readAll(ts: Tensor[]): Promise<Float32Array[]> {
  const out = [];
  for (const t of ts) out.push(await t.read() as Float32Array);
  for (const t of ts) t.dispose();
  ts.length = 0;
  return out;
}

gpuTest(
  "augmented teacher input: each step's teacher forward gets the student's crops and flips",
  async () => {
    const live = engine().pool.liveBytes;
    const train = squareSet(20);
    const inputs = new ImageInputs({ train, test: train }, { size: 8 });
    const labeled = Int32Array.of(0, 1, 2, 3, 4, 5);
    const unlabeled = Int32Array.from({ length: 14 }, (_, k) => k + 6);
    const student = { size: 8, mean: IMAGENET_MEAN, std: IMAGENET_STD };
    for (const size of [8, 12]) {
      const teacherInput = { size, ...TEACHER_NORM };
      const teacher = mlpTeacher(teacherInput, Rng.fromSeed(2));
      const model = spyStudent(8, Rng.fromSeed(1));
      const stats = await trainDualHead(
        model,
        inputs,
        { labeled, unlabeled, labelOf: (i) => train.labels[i], teacherPixels: teacher },
        SETTINGS,
        Rng.fromSeed(7),
        silentProgress,
        "t",
      );
      const xs = await readAll(model.seen);
      const xt = await readAll(teacher.seen);
      // Per step: the labeled batch, then the unlabeled one, to both models.
      assert.equal(xs.length, 2 * stats.steps);
      assert.equal(xt.length, 2 * stats.steps);
      // Replay the trainer's draws: batches, then one crop and flip per image in batch order.
      const rng = Rng.fromSeed(7);
      const batches = labeledBatches(labeled, 4, SETTINGS.repeat, rng.stream("labeled"));
      const pool = new UnlabeledCycler(unlabeled, 4, rng.stream("unlabeled"));
      const augment = rng.stream("augment");
      for (let step = 0; step < stats.steps; step++) {
        const idx = [batches.next().value as Int32Array, pool.next()];
        idx.forEach((batch, b) => {
          const views = Array.from(batch, () => drawTrainView(SIDE, SIDE, augment));
          const img = (k: number) => train.get(batch[k]) as Image;
          const what = `step ${step} ${b ? "unlabeled" : "labeled"}, teacher size ${size}`;
          const k = 2 * step + b;
          assert.deepEqual(
            xs[k],
            Float32Array.from(views.flatMap((v, j) => viewOf(img(j), v, student))),
            what,
          );
          assert.deepEqual(
            xt[k],
            Float32Array.from(views.flatMap((v, j) => viewOf(img(j), v, teacherInput))),
            what,
          );
          if (size === 8) {
            // Directly: the very same pixels, each under its own normalisation.
            assertClose(unnormalize(xt[k], 8, TEACHER_NORM), unnormalize(xs[k], 8, student), {
              rtol: 0,
              atol: 1e-6,
              what,
            });
          }
        });
      }
      model.dispose();
      teacher.dispose();
    }
    assert.equal(engine().pool.liveBytes, live, "GPU memory left behind");
  },
  { oneBackend: true },
);

/**
 * No augmentation: each crop the whole (square) image, no flip. The "augment" stream of the
 * training rng is replaced by one that draws no flip; crop draws are moot at scale = ratio = 1.
 */
function withoutFlips(rng: Rng): Rng {
  const still = { uniform: () => 0.75, int: () => 0 };
  return {
    stream: (name: string) => (name === "augment" ? still : rng.stream(name)),
  } as unknown as Rng;
}

gpuTest(
  "teacher input: cached and augmented train the same student without augmentation, and differ only in the teacher's targets with it",
  async () => {
    await withTempDir(async (dir) => {
      const live = engine().pool.liveBytes;
      const train = squareSet(24);
      const test = squareSet(9, 1);
      const data: ExperimentData = {
        dataset: "square",
        classes: ["a", "b", "c"],
        trainLabels: train.labels,
        train: Int32Array.from({ length: 24 }, (_, i) => i),
        test: Int32Array.from({ length: 9 }, (_, i) => i),
        testLabels: test.labels,
        heldOut: 0,
      };
      const model = mlpTeacher({ size: 12, ...TEACHER_NORM }, Rng.fromSeed(2));
      // The cached mode's logits: the eval transform at the teacher's size, computed once.
      const cached = await modelTeacher({
        spec: "mlp",
        weightsKey: "mlp",
        description: "a fixed MLP",
        input: model.input,
        open: () => Promise.resolve({ ...model, dispose() {} }),
        data,
        sets: { train, test },
        cache: new LogitsCache(dir),
      });
      const logits = await cached.forRound(
        0,
        data.train,
        undefined,
        Rng.fromSeed(0),
        silentProgress,
      );
      await readAll(model.seen);
      const labeled = Int32Array.of(0, 1, 2, 3, 4, 5);
      const unlabeled = data.train.subarray(6);
      async function run(augment: boolean, mode: "cached" | "augmented") {
        const opts: InputOptions = {
          size: 8,
          ...(augment ? {} : { train: { scale: [1, 1], ratio: [1, 1] } }),
        };
        let spy: SpyStudent | undefined;
        const learner = new GpuLearner({
          data,
          inputs: new ImageInputs({ train, test }, opts),
          build: (rng) => (spy = spyStudent(8, rng!)),
          settings: SETTINGS,
        });
        const rng = Rng.fromSeed(11);
        const student = await learner.train({
          labeled,
          unlabeled,
          teacher: logits.train,
          teacherPixels: mode === "augmented" ? model : undefined,
          rng: augment ? rng : withoutFlips(rng),
          progress: silentProgress,
          label: mode,
        });
        const seen = await readAll(spy!.seen);
        const teacherSaw = await readAll(model.seen);
        const p = await student.predict("test", data.test, silentProgress, "p");
        await readAll(spy!.seen); // the test images' inputs (the spy keeps them too)
        student.dispose();
        return { seen, teacherSaw, p };
      }
      const same = (a: Predictions, b: Predictions) =>
        a.ce.every((v, k) => v === b.ce[k]) && a.kd.every((v, k) => v === b.kd[k]) &&
        a.features.every((v, k) => v === b.features[k]);

      const offCached = await run(false, "cached");
      const offAugmented = await run(false, "augmented");
      assert.equal(offCached.teacherSaw.length, 0, "the cached mode ran the teacher");
      assert.ok(offAugmented.teacherSaw.length > 0, "the augmented mode never ran the teacher");
      assert.deepEqual(offAugmented.seen, offCached.seen, "student inputs differ");
      assert.ok(same(offAugmented.p, offCached.p), "without augmentation the students differ");

      const onCached = await run(true, "cached");
      const onAugmented = await run(true, "augmented");
      assert.deepEqual(onAugmented.seen, onCached.seen, "student inputs differ");
      assert.notDeepEqual(onAugmented.seen, offCached.seen, "augmentation did nothing");
      assert.ok(
        !same(onAugmented.p, onCached.p),
        "with augmentation the modes train the same student",
      );
      model.dispose();
      assert.equal(engine().pool.liveBytes, live, "GPU memory left behind");
    });
  },
  { oneBackend: true },
);
