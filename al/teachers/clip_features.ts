/**
 * CLIP image features (unnormalised, [n, E]) of one split's images in play, in eval transform,
 * cached on disk by content key (CLIP weights hash, dataset, split, indices, transform): the
 * refitted CLIP teachers compute them once and reuse them every round and run.
 */
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import type { CLIP } from "../../models/clip/clip.ts";
import type { ImageSet } from "../data/image.ts";
import type { Progress } from "../progress.ts";
import { ImageInputs } from "../train/inputs.ts";
import { contentKey, type LogitsCache, sha256 } from "./cache.ts";
import { clipInput } from "./clip_zeroshot.ts";

export interface ClipFeaturesArgs {
  clip: CLIP;
  weightsHash: string;
  dataset: string;
  /** The split's name (part of the cache key). */
  split: string;
  set: ImageSet;
  indices: Int32Array;
  cache: LogitsCache;
  batch: number;
  progress: Progress;
  /** Who asked (cache metadata). */
  teacher: string;
}

export async function clipFeatures(a: ClipFeaturesArgs): Promise<Float32Array> {
  const input = clipInput(a.clip);
  const E = a.clip.config.embedDim;
  const { indices } = a;
  const key = await contentKey({
    clipFeatures: a.weightsHash,
    dataset: a.dataset,
    split: a.split,
    indices: await sha256(new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength)),
    transform: { kind: "eval", ...input },
  });
  const hit = await a.cache.get(key, indices.length, E);
  if (hit) return hit;
  // One set serves as both of ImageInputs' splits: only eval inputs are drawn here.
  const inputs = new ImageInputs({ train: a.set, test: a.set }, { ...input, cacheBytes: 0 });
  const out = new Float32Array(indices.length * E);
  const phase = a.progress.phase(`CLIP features ${a.split}`, indices.length, "image");
  for (let start = 0; start < indices.length; start += a.batch) {
    const idx = indices.subarray(start, Math.min(indices.length, start + a.batch));
    const x = await inputs.evalBatch("test", idx);
    const f = await scopeAsync(async () =>
      await a.clip.encodeImage(tensor(x, [idx.length, 3, input.size, input.size])).read()
    );
    out.set(f, start * E);
    phase.tick(idx.length);
  }
  phase.end();
  await a.cache.put(key, out, E, { teacher: a.teacher, kind: "clip-features", split: a.split });
  return out;
}
