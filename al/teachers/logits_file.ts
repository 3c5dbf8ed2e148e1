/**
 * `logits:FILE`: teacher logits computed elsewhere, as safetensors with `train` [N_train, C] and
 * `test` [N_test, C] (rows indexed like the dataset's train and test splits). Shapes and values
 * are checked; anything wrong is an InputError naming the file.
 */
import { InputError } from "../../engine/errors.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import type { ExperimentData, RoundTeacher } from "../ports.ts";
import { fileHash } from "./cache.ts";

function rows(
  file: string,
  name: string,
  data: Float32Array,
  shape: number[],
  indices: Int32Array,
  classes: number,
) {
  const out = new Float32Array(indices.length * classes);
  indices.forEach((i, k) => out.set(data.subarray(i * classes, (i + 1) * classes), k * classes));
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const row = indices[Math.floor(bad / classes)];
    throw new InputError(`${file}: "${name}" row ${row} holds ${out[bad]} (shape [${shape}])`);
  }
  return out;
}

export async function logitsFileTeacher(
  file: string,
  data: ExperimentData,
  trainSplitSize: number,
  testSplitSize: number,
): Promise<RoundTeacher> {
  const { tensors } = await loadSafetensors(file);
  const C = data.classes.length;
  const get = (name: string, n: number) => {
    const t = tensors.get(name);
    if (!t) throw new InputError(`${file}: no tensor "${name}" (expected f32 [${n}, ${C}])`);
    if (t.dtype !== "f32" || t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== C) {
      throw new InputError(
        `${file}: "${name}" is ${t.dtype} [${t.shape}], expected f32 [${n}, ${C}] ` +
          `(one row per ${name} image, one column per class)`,
      );
    }
    return t;
  };
  const train = get("train", trainSplitSize);
  const test = get("test", testSplitSize);
  const logits = {
    train: rows(file, "train", train.data as Float32Array, train.shape, data.train, C),
    test: rows(file, "test", test.data as Float32Array, test.shape, data.test, C),
  };
  return {
    spec: `logits:${file}`,
    key: await fileHash(file),
    description: `precomputed teacher logits from ${file}`,
    forRound: () => Promise.resolve(logits),
  };
}
