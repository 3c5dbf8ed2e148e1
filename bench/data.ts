/**
 * `bench data`: decoding + train-transform throughput (images/s) of the data pipeline as training
 * runs it (`ImageInputs.trainBatch`: sharp decoding fetched ahead on libuv's threads, the
 * float32 transform of al/data/resample.ts), beside PIL + torchvision doing the same work on the
 * same bytes, so it can be checked that data never starves training. Without torch the reference
 * is the pipeline as it was before (jpeg-js decoding, the float64 reference transform, one image
 * after the other), measured in the same run; all three are timed round robin (best of >= 5),
 * and the notes break the time down.
 */
import jpeg from "jpeg-js";
import { decodeImage, decodeImageJs, imageDecoder } from "../al/data/decode.ts";
import { normalize, trainTransformReference } from "../al/data/transforms.ts";
import { trainTransformInto } from "../al/data/resample.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../al/data/normalization.ts";
import { ImageInputs } from "../al/train/inputs.ts";
import { Rng } from "../engine/rng.ts";
import type { Image, ImageSet } from "../al/data/image.ts";
import {
  type BenchOptions,
  type BenchRecord,
  compare,
  type Contender,
  type Measure,
  record,
  repetitions,
  timingNotes,
  TorchWorker,
} from "./harness.ts";

/** `bench data` as filed in issue 14 (jpeg-js + float64 transform, 500×375 → 224), images/s. */
const ISSUE_BASELINE = 43;

function syntheticJpeg(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = (x ^ y) & 0xff;
      data[i + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ data, width, height }, 90).data);
}

const TORCH = `
import io, numpy as np
from PIL import Image
import torchvision.transforms as T
data = open(INPUT["file"], "rb").read()
size = INPUT["size"]
tf = T.Compose([T.RandomResizedCrop(size, scale=(0.5, 1.0)), T.RandomHorizontalFlip(),
                T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
def once():
    img = Image.open(io.BytesIO(data)).convert("RGB") if INPUT["decode"] else Image.fromarray(
        np.zeros((28, 28), dtype=np.uint8)).convert("RGB")
    return tf(img)
def step():
    for _ in range(INPUT["n"]): once()
STEPS["data"] = step
`;

const NORM = { mean: IMAGENET_MEAN, std: IMAGENET_STD };

/** `n` images, each decoded on `get` by `decode` (or the same in-memory image). */
function imageSet(n: number, get: () => Promise<Image> | Image): ImageSet {
  return { length: n, labels: new Int32Array(n), get, source: (i) => `bench#${i}` };
}

function measure(seconds: number): Measure & { unit: string } {
  return { seconds, throughput: 1 / seconds, unit: "images/s" };
}

/** Seconds per image of `fn`, which handles `n` images; best of 3 (the notes' parts). */
async function perImage(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = await compare([{ name: "part", run: async () => void await fn() }], {
    warmup: 1,
    iters: 3,
  });
  return t.get("part")!.best / n;
}

/** The pipeline before issue 14's change: decode, then the float64 transform, one at a time. */
function sequentialReference(
  n: number,
  size: number,
  rng: Rng,
  get: () => Promise<Image> | Image,
): Contender {
  return {
    name: "before",
    run: async () => {
      for (let i = 0; i < n; i++) {
        normalize(trainTransformReference(await get(), rng, { size }), NORM.mean, NORM.std);
      }
    },
  };
}

export async function benchData(opts: BenchOptions): Promise<BenchRecord[]> {
  await using torch = await TorchWorker.start();
  const n = opts.quick ? 10 : 40;
  const rng = Rng.fromSeed(0).stream("augment");
  const bytes = syntheticJpeg(500, 375);
  const file = await Deno.makeTempFile({ suffix: ".jpg" });
  await Deno.writeFile(file, bytes);
  const grey: Image = { width: 28, height: 28, channels: 3, data: new Uint8Array(28 * 28 * 3) };
  const decoder = await imageDecoder();
  const cases = [
    {
      name: "jpeg 500x375 decode + RandomResizedCrop(224) + flip + normalise",
      decode: true,
      size: 224,
    },
    {
      name: "28x28 RandomResizedCrop(32) + flip + normalise (demo input)",
      decode: false,
      size: 32,
    },
  ];
  const iters = repetitions(opts);
  const out: BenchRecord[] = [];
  try {
    for (const c of cases) {
      const get = c.decode ? () => decodeImage(bytes, file) : () => grey;
      const set = imageSet(n, get);
      const inputs = new ImageInputs({ train: set, test: set }, { size: c.size });
      const indices = Array.from({ length: n }, (_, i) => i);
      await torch?.exec(TORCH, { file, size: c.size, decode: c.decode, n });
      const timings = await compare([
        { name: "ours", run: async () => void await inputs.trainBatch(indices, rng) },
        sequentialReference(n, c.size, rng, c.decode ? () => decodeImageJs(bytes, file) : get),
        ...(torch ? [torch.contender("torch-cpu", "data")] : []),
      ], { warmup: 1, iters });
      const oursT = timings.get("ours")!;
      const ours = measure(oursT.best / n);
      // The parts, one image at a time, for the notes.
      const img = await get();
      const buf = new Float32Array(3 * c.size * c.size);
      const transform = await perImage(n, () => {
        for (let i = 0; i < n; i++) trainTransformInto(img, rng, { size: c.size }, NORM, buf, 0);
      });
      const referenceTransform = await perImage(n, () => {
        for (let i = 0; i < n; i++) {
          normalize(trainTransformReference(img, rng, { size: c.size }), NORM.mean, NORM.std);
        }
      });
      const notes: Record<string, unknown> = {
        pipeline: "ImageInputs.trainBatch: resample.ts float32 transform, 4 images fetched ahead",
        transformImagesPerSecond: 1 / transform,
        referenceTransformImagesPerSecond: 1 / referenceTransform,
      };
      if (c.decode) {
        const decode = await perImage(n, async () => {
          for (let i = 0; i < n; i++) await get();
        });
        Object.assign(notes, {
          decoder,
          decodeImagesPerSecond: 1 / decode,
          issueBaselineImagesPerSecond: ISSUE_BASELINE,
          speedupOverIssueBaseline: ours.throughput / ISSUE_BASELINE,
        });
      }
      const beforeName = c.decode
        ? "ts before: jpeg-js decode + float64 transform"
        : "ts before: float64 transform";
      const before = timings.get("before")!;
      Object.assign(notes, { before: beforeName, beforeImagesPerSecond: n / before.best });
      const ref = torch ? timings.get("torch-cpu")! : before;
      out.push(record(
        "data",
        c.name,
        ours,
        { name: torch ? "torch-cpu" : beforeName, seconds: ref.best / n, throughput: n / ref.best },
        { ...notes, ...timingNotes(oursT, ref, n) },
      ));
    }
  } finally {
    await Deno.remove(file);
  }
  return out;
}
