/**
 * A tiny on-disk experiment for the `run` tests: an IDX dataset of 8×8 images in 4 classes
 * (brightness and a stripe encode the class), a precomputed teacher (logits:FILE, 80% right)
 * and a config with the MLP student, so a whole run takes seconds.
 */
import { join } from "node:path";
import { saveSafetensors } from "../../../engine/safetensors.ts";

export const CLASSES = 4;

function idxFile(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function images(n: number, salt: number): { pixels: Uint8Array; labels: Uint8Array } {
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 3 + salt) % CLASSES);
  const pixels = new Uint8Array(n * 64);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 64; p++) {
      const stripe = (p % 8) === labels[i] * 2 ? 120 : 0;
      pixels[i * 64 + p] = (labels[i] * 30 + stripe + ((p * 13 + i * 7) % 40)) % 256;
    }
  }
  return { pixels, labels };
}

/** Writes the tiny IDX dataset (`trainN` + `testN` images) into `data`; its labels. */
export async function writeTinyIdx(data: string, trainN = 160, testN = 40) {
  await Deno.mkdir(data, { recursive: true });
  const train = images(trainN, 0);
  const test = images(testN, 1);
  const write = (name: string, dims: number[], bytes: Uint8Array) =>
    Deno.writeFile(join(data, name), idxFile(dims, bytes));
  await write("train-images-idx3-ubyte", [trainN, 8, 8], train.pixels);
  await write("train-labels-idx1-ubyte", [trainN], train.labels);
  await write("t10k-images-idx3-ubyte", [testN, 8, 8], test.pixels);
  await write("t10k-labels-idx1-ubyte", [testN], test.labels);
  return { train: train.labels, test: test.labels };
}

/** Writes the dataset and teacher under `dir`; returns the config (as JSON) of a run. */
export async function writeTinyRun(dir: string): Promise<Record<string, unknown>> {
  const data = join(dir, "data");
  const { train, test } = await writeTinyIdx(data);
  const logits = (labels: Uint8Array) => {
    const out = new Float32Array(labels.length * CLASSES);
    labels.forEach((y, i) => (out[i * CLASSES + (i % 5 === 0 ? (y + 1) % CLASSES : y)] = 3));
    return out;
  };
  const teacher = join(dir, "teacher.safetensors");
  await saveSafetensors(teacher, {
    train: { dtype: "f32", shape: [160, CLASSES], data: logits(train) },
    test: { dtype: "f32", shape: [40, CLASSES], data: logits(test) },
  });
  return {
    dataset: `idx:${data}`,
    teacher: `logits:${teacher}`,
    student: "mlp",
    imageSize: 8,
    strategies: ["random", "pcoreset"],
    rounds: 3,
    budget: 4,
    seeds: [1],
    repeat: 4,
    batchSize: 16,
    lr: 0.003,
  };
}

/** report.json without wall times and without the out folder's name. */
export async function timeless(out: string): Promise<unknown> {
  const text = await Deno.readTextFile(join(out, "report.json"));
  return JSON.parse(text, (k, v) => (k === "seconds" || k === "out" ? undefined : v));
}
