/**
 * `bench data`: decoding + train-transform throughput (images/s) of the data pipeline, beside
 * PIL + torchvision doing the same work on the same bytes, so it can be checked that data never
 * starves training. (The train transform runs on the CPU only: al/train/inputs.ts.)
 */
import jpeg from "jpeg-js";
import { decodeImage, decodeImageJs, imageDecoder } from "../al/data/decode.ts";
import { normalize, trainTransformReference } from "../al/data/transforms.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../al/data/normalization.ts";
import { Rng } from "../engine/rng.ts";
import type { Image } from "../al/data/image.ts";
import {
  type BenchOptions,
  type BenchRecord,
  record,
  runTorch,
  timeIt,
  torchAvailable,
} from "./harness.ts";

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
for _ in range(3): once()
n = INPUT["n"]
t0 = time.perf_counter()
for _ in range(n): once()
RESULT = {"seconds": (time.perf_counter() - t0) / n}
`;

/** Seconds per image of `n` decodes (or none) + train transform + normalise, median of 3. */
async function perImage(
  n: number,
  size: number,
  rng: Rng,
  decode: (() => Promise<Image> | Image) | undefined,
  grey: Image,
): Promise<number> {
  return (await timeIt(async () => {
    for (let i = 0; i < n; i++) {
      const img = decode ? await decode() : grey;
      normalize(trainTransformReference(img, rng, { size }), IMAGENET_MEAN, IMAGENET_STD);
    }
  }, { warmup: 1, iters: 3 })) / n;
}

/**
 * Without torch, the decode case's reference is the fallback decoder (jpeg-js) doing the same
 * work, so the record shows what the native decoder buys; notes name the decoder that ran.
 */
export async function benchData(opts: BenchOptions): Promise<BenchRecord[]> {
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
  const out: BenchRecord[] = [];
  try {
    for (const c of cases) {
      const seconds = await perImage(
        n,
        c.size,
        rng,
        c.decode ? () => decodeImage(bytes, file) : undefined,
        grey,
      );
      const ours = { seconds, throughput: 1 / seconds, unit: "images/s" };
      const fallback = c.decode
        ? await perImage(n, c.size, rng, () => decodeImageJs(bytes, file), grey)
        : undefined;
      const notes = c.decode
        ? { decoder, fallbackDecoder: "jpeg-js", fallbackImagesPerSecond: 1 / fallback! }
        : undefined;
      if (await torchAvailable()) {
        const ref = await runTorch<{ seconds: number }>(TORCH, {
          file,
          size: c.size,
          decode: c.decode,
          n,
        });
        out.push(record("data", c.name, ours, {
          name: "torch-cpu",
          seconds: ref.seconds,
          throughput: 1 / ref.seconds,
        }, notes));
      } else if (fallback !== undefined) {
        out.push(record("data", c.name, ours, {
          name: "ts, jpeg-js decode (fallback)",
          seconds: fallback,
          throughput: 1 / fallback,
        }, notes));
      } else {
        out.push(
          record("data", c.name, ours, { name: "ts-reference", seconds, throughput: 1 / seconds }),
        );
      }
    }
  } finally {
    await Deno.remove(file);
  }
  return out;
}
