/**
 * `bench clip`: CLIP image-tower images/s and text-tower prompts/s for the RN50 and ViT-B/32
 * shapes with random weights, beside the same architectures in PyTorch CPU
 * (`bench/clip_torch.py`, random weights too) in the same run, timed round robin (best of >= 5).
 */
import { engine } from "../engine/context.ts";
import type { HostTensor } from "../engine/safetensors.ts";
import { tensor } from "../engine/tensor.ts";
import type { ClipConfig } from "../models/clip/config.ts";
import { CLIP } from "../models/clip/clip.ts";
import {
  type BenchOptions,
  type BenchRecord,
  compare,
  type Contender,
  record,
  repetitions,
  type Timing,
  timingNotes,
  TorchWorker,
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

/** A contender running one tower forward, synced. */
function tower(name: string, fn: () => { dispose(): void }): Contender {
  return {
    name,
    run: async () => {
      const out = fn();
      try {
        await engine().sync();
      } finally {
        out.dispose();
      }
    },
  };
}

export async function benchClip(opts: BenchOptions): Promise<BenchRecord[]> {
  const images = opts.quick ? 1 : 2;
  const prompts = opts.quick ? 2 : 4;
  const iters = repetitions(opts);
  await using torch = await TorchWorker.start();
  const torchCode = torch
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
    let image: Map<string, Timing>, text: Map<string, Timing>;
    try {
      if (torch) {
        await torch.exec(torchCode, { tower: "image", config, batch: images, eot: fullEot });
        await torch.exec(torchCode, { tower: "text", config, batch: prompts, eot: fullEot });
      }
      const reference = (step: string) => torch ? [torch.contender("torch-cpu", step)] : [];
      image = await compare(
        [tower("ours", () => model.encodeImage(pixels)), ...reference("image")],
        { warmup: 1, iters },
      );
      text = await compare([
        tower("ours", () => model.encodeText(full)),
        tower("ours-short", () => model.encodeText(short)),
        ...reference("text"),
      ], { warmup: 1, iters });
    } finally {
      pixels.dispose();
      model.dispose();
    }
    const against = (t: Map<string, Timing>, batch: number) => {
      const ref = t.get("torch-cpu");
      return ref
        ? {
          reference: { name: "torch-cpu", seconds: ref.best, throughput: batch / ref.best },
          notes: timingNotes(t.get("ours")!, ref),
        }
        : {
          reference: { name: "none (torch unavailable)", seconds: NaN, throughput: NaN },
          notes: { timing: `best of ${iters}` },
        };
    };
    const img = against(image, images), txt = against(text, prompts);
    const ours = (t: Map<string, Timing>) => t.get("ours")!.best;
    records.push(
      record(
        "clip",
        `${name} image ${images}x3x${r}x${r}`,
        { seconds: ours(image), throughput: images / ours(image), unit: "images/s" },
        img.reference,
        img.notes,
      ),
      record(
        "clip",
        `${name} text ${prompts}x${config.contextLength}`,
        { seconds: ours(text), throughput: prompts / ours(text), unit: "prompts/s" },
        txt.reference,
        {
          eot: "every row ends at token 76: all 77 positions computed, as the reference does",
          short_prompts_per_s: prompts / text.get("ours-short")!.best,
          short_prompts_note: "end-of-text at 8..12: tokens past the last one are skipped",
          ...txt.notes,
        },
      ),
    );
  }
  return records;
}
