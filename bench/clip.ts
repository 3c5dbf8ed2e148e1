/**
 * `bench clip`: CLIP image-tower images/s and text-tower prompts/s for the RN50 and ViT-B/32
 * shapes with random weights, beside the same architectures in PyTorch CPU
 * (`bench/clip_torch.py`, random weights too) in the same run.
 */
import { engine } from "../engine/context.ts";
import type { HostTensor } from "../engine/safetensors.ts";
import { tensor } from "../engine/tensor.ts";
import type { ClipConfig } from "../models/clip/config.ts";
import { CLIP } from "../models/clip/clip.ts";
import {
  type BenchOptions,
  type BenchRecord,
  record,
  runTorch,
  timeIt,
  torchAvailable,
} from "./harness.ts";

const TEXT = { contextLength: 77, vocabSize: 49408, transformerWidth: 512, transformerHeads: 8 };

/** The published OpenAI shapes (what `inferClipConfig` gives for their checkpoints). */
export const CLIP_SHAPES: Record<string, ClipConfig> = {
  RN50: {
    embedDim: 1024,
    imageResolution: 224,
    visionLayers: [3, 4, 6, 3],
    visionWidth: 64,
    visionPatchSize: null,
    visionHeads: 32,
    ...TEXT,
    transformerLayers: 12,
  },
  "ViT-B/32": {
    embedDim: 512,
    imageResolution: 224,
    visionLayers: 12,
    visionWidth: 768,
    visionPatchSize: 32,
    visionHeads: 12,
    ...TEXT,
    transformerLayers: 12,
  },
};

/** Uniform values in [lo, hi) from a small LCG: fast enough for 150M weights. */
function uniform(n: number, state: { s: number }, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  let s = state.s;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s / 4294967296) * (hi - lo);
  }
  state.s = s;
  return out;
}

/**
 * Random weights of the model's own names and shapes: unit-variance-preserving matrices and
 * convs, norm gains near 1, positive running variances (no NaN or Inf on any path).
 */
function randomState(model: CLIP, seed: number): Map<string, HostTensor> {
  const state = { s: seed };
  const out = new Map<string, HostTensor>();
  for (const [name, t] of model.stateDict()) {
    const n = t.size;
    const shape = [...t.shape];
    if (t.dtype !== "f32") {
      out.set(name, { dtype: "i32", shape, data: new Int32Array(n) });
      continue;
    }
    const fanIn = shape.length > 1 ? n / shape[0] : 1;
    const bound = Math.sqrt(3 / fanIn);
    const data = name.endsWith("running_var")
      ? uniform(n, state, 0.5, 1.5)
      : name === "logit_scale"
      ? Float32Array.of(Math.log(1 / 0.07))
      : shape.length === 1 && name.endsWith("weight")
      ? uniform(n, state, 0.9, 1.1)
      : shape.length === 1
      ? uniform(n, state, -0.05, 0.05)
      : uniform(n, state, -bound, bound);
    out.set(name, { dtype: "f32", shape, data });
  }
  return out;
}

function buildRandom(config: ClipConfig, seed: number): CLIP {
  const model = new CLIP(config);
  model.loadStateDict(randomState(model, seed), { source: "random weights" });
  return model.eval().setRequiresGrad(false);
}

/** Token rows with the end-of-text token (the largest id) at `eot[t]`. */
function randomIds(config: ClipConfig, eot: number[], seed: number): Int32Array {
  const ctx = config.contextLength;
  const ids = new Int32Array(eot.length * ctx);
  const r = uniform(ids.length, { s: seed }, 0, config.vocabSize - 2);
  eot.forEach((e, t) => {
    for (let i = 0; i <= e; i++) ids[t * ctx + i] = Math.floor(r[t * ctx + i]);
    ids[t * ctx + e] = config.vocabSize - 1;
  });
  return ids;
}

async function timeTower(fn: () => { dispose(): void }, quick: boolean): Promise<number> {
  return await timeIt(async () => {
    const out = fn();
    await engine().sync();
    out.dispose();
  }, { warmup: 1, iters: quick ? 1 : 2 });
}

export async function benchClip(opts: BenchOptions): Promise<BenchRecord[]> {
  const quick = opts.quick ?? false;
  const images = quick ? 1 : 2;
  const prompts = quick ? 2 : 4;
  const withTorch = await torchAvailable();
  const torchCode = withTorch
    ? await Deno.readTextFile(new URL("./clip_torch.py", import.meta.url))
    : "";
  const records: BenchRecord[] = [];
  for (const [name, config] of Object.entries(CLIP_SHAPES)) {
    const r = config.imageResolution;
    const model = buildRandom(config, 7);
    const pixels = tensor(uniform(images * 3 * r * r, { s: 11 }, -2, 2), [images, 3, r, r]);
    const fullEot = new Array(prompts).fill(config.contextLength - 1);
    const full = randomIds(config, fullEot, 13);
    // Typical prompts ("a photo of a {}.") end within ~12 tokens: only those are computed.
    const short = randomIds(config, fullEot.map((_, i) => 8 + (i % 5)), 17);
    let imageSeconds: number, textSeconds: number, shortSeconds: number;
    try {
      imageSeconds = await timeTower(() => model.encodeImage(pixels), quick);
      textSeconds = await timeTower(() => model.encodeText(full), quick);
      shortSeconds = await timeTower(() => model.encodeText(short), quick);
    } finally {
      pixels.dispose();
      model.dispose();
    }
    const torch = async (tower: "image" | "text", batch: number) => {
      const input = { tower, config, batch, warmup: 1, iters: quick ? 1 : 2, eot: fullEot };
      const { seconds } = await runTorch<{ seconds: number }>(torchCode, input);
      return { name: "torch-cpu", seconds, throughput: batch / seconds };
    };
    const fallback = { name: "none (torch unavailable)", seconds: NaN, throughput: NaN };
    records.push(
      record(
        "clip",
        `${name} image ${images}x3x${r}x${r}`,
        { seconds: imageSeconds, throughput: images / imageSeconds, unit: "images/s" },
        withTorch ? await torch("image", images) : fallback,
      ),
      record(
        "clip",
        `${name} text ${prompts}x${config.contextLength}`,
        { seconds: textSeconds, throughput: prompts / textSeconds, unit: "prompts/s" },
        withTorch ? await torch("text", prompts) : fallback,
        {
          eot: "every row ends at token 76: all 77 positions computed, as the reference does",
          short_prompts_per_s: prompts / shortSeconds,
          short_prompts_note: "end-of-text at 8..12: tokens past the last one are skipped",
        },
      ),
    );
  }
  return records;
}
