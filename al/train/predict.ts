/** Eval-mode outputs of the dual-head student on many images, in batches, to host arrays. */
import { noGradAsync } from "../../engine/autograd.ts";
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import type { Predictions } from "../ports.ts";
import type { Progress } from "../progress.ts";
import type { ImageInputs, Split } from "./inputs.ts";
import type { DualHeadStudent } from "./student.ts";

/**
 * Images per forward when scoring (the pool, the test split); score shards are cut on multiples of
 * it (al/loop/scores.ts).
 */
export const PREDICT_BATCH = 128;

export async function predictDualHead(
  student: DualHeadStudent,
  inputs: ImageInputs,
  split: Split,
  indices: Int32Array,
  progress: Progress,
  label: string,
  batch = PREDICT_BATCH,
): Promise<Predictions> {
  const C = student.classes;
  const D = student.backbone.featureDim;
  const S = inputs.size;
  const n = indices.length;
  const ce = new Float32Array(n * C);
  const kd = new Float32Array(n * C);
  const features = new Float32Array(n * D);
  student.eval();
  const phase = progress.phase(label, n, "image");
  try {
    for (let start = 0; start < n; start += batch) {
      const idx = indices.subarray(start, Math.min(n, start + batch));
      const x = await inputs.evalBatch(split, idx);
      await noGradAsync(() =>
        scopeAsync(async () => {
          const out = student.forward(tensor(x, [idx.length, 3, S, S]));
          ce.set(await out.ce.read() as Float32Array, start * C);
          kd.set(await out.kd.read() as Float32Array, start * C);
          features.set(await out.features.read() as Float32Array, start * D);
        })
      );
      phase.tick(idx.length);
    }
  } finally {
    phase.end();
  }
  return { ce, kd, features, dim: D };
}
