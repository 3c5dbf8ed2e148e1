/**
 * CLIP image features (unnormalised, [n, E]) of one split's images in play, in eval transform,
 * cached on disk by content key (CLIP weights hash, dataset, split, indices, transform): the
 * refitted CLIP teachers compute them once (LogitsCache.pass) and reuse them every round and run.
 */
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import type { CLIP } from "../../models/clip/clip.ts";
import type { ImageSet } from "../data/image.ts";
import { ImageInputs } from "../train/inputs.ts";
import type { ImagePass } from "../shards.ts";
import { contentKey, LOGITS, sha256 } from "./cache.ts";
import { clipInput } from "./clip_zeroshot.ts";

export interface ClipFeaturesArgs {
  clip: CLIP;
  weightsHash: string;
  dataset: string;
  /** The split's name (part of the cache key). */
  split: string;
  set: ImageSet;
  indices: Int32Array;
  batch: number;
  /** Who asked (for messages). */
  teacher: string;
}

/** The features as a pass (al/shards.ts): `akd teacher --shard` computes it in parts. */
export async function clipFeaturesPass(a: ClipFeaturesArgs): Promise<ImagePass> {
  const input = clipInput(a.clip);
  const E = a.clip.config.embedDim;
  const { indices } = a;
  // One set serves as both of ImageInputs' splits: only eval inputs are drawn here.
  const inputs = new ImageInputs({ train: a.set, test: a.set }, { ...input, cacheBytes: 0 });
  const name = `${a.teacher} CLIP features ${a.split}`;
  return {
    key: await contentKey({
      clipFeatures: a.weightsHash,
      dataset: a.dataset,
      split: a.split,
      indices: await sha256(new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength)),
      transform: { kind: "eval", ...input },
    }),
    name,
    rows: indices.length,
    cols: { [LOGITS]: E },
    batch: a.batch,
    async compute(from, to, progress) {
      const out = new Float32Array((to - from) * E);
      const phase = progress.phase(name, to - from, "image");
      for (let start = from; start < to; start += a.batch) {
        const idx = indices.subarray(start, Math.min(to, start + a.batch));
        const x = await inputs.evalBatch("test", idx);
        const f = await scopeAsync(async () =>
          await a.clip.encodeImage(tensor(x, [idx.length, 3, input.size, input.size])).read()
        );
        out.set(f, (start - from) * E);
        phase.tick(idx.length);
      }
      phase.end();
      return { [LOGITS]: out };
    },
  };
}
