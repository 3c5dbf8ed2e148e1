/**
 * `bench data`: decoding + train-transform throughput (images/s) of the data pipeline, beside
 * PIL + torchvision doing the same work on the same bytes, so it can be checked that data never
 * starves training. The GPU cases time one 64-image batch of `transforms_gpu.ts` (draws, tap
 * tables, packing, upload, kernel, until the GPU is done) beside torchvision transforming
 * already-decoded PIL images one by one.
 */
import jpeg from "jpeg-js";
import { decodeImage } from "../al/data/decode.ts";
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalize,
  trainTransform,
} from "../al/data/transforms_ref.ts";
import { gpuTrainBatch, gpuTrainBatchUniform } from "../al/data/transforms_gpu.ts";
import { engine } from "../engine/context.ts";
import { scopeAsync } from "../engine/tensor.ts";
import { Rng } from "../engine/rng.ts";
import { greyToRgb, type Image } from "../al/data/image.ts";
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

const TORCH_TRANSFORM = `
import numpy as np
from PIL import Image
import torchvision.transforms as T
size = INPUT["size"]
img = Image.open(INPUT["file"]).convert("RGB") if INPUT["file"] else Image.fromarray(
    np.zeros((28, 28), dtype=np.uint8)).convert("RGB")
tf = T.Compose([T.RandomResizedCrop(size, scale=(0.5, 1.0)), T.RandomHorizontalFlip(),
                T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
for _ in range(3): tf(img)
n = INPUT["n"]
t0 = time.perf_counter()
for _ in range(n): tf(img)
RESULT = {"seconds": (time.perf_counter() - t0) / n}
`;

const GPU_BATCH = 64;

/**
 * One 64-image GPU batch per case, timed to completion; seconds per image. The float64 CPU
 * reference transform of the same input is timed too (notes; the reference without torch).
 */
async function benchGpu(
  file: string,
  photo: Image,
  n: number,
  rng: Rng,
  quick: boolean,
): Promise<BenchRecord[]> {
  const grey = new Uint8Array(GPU_BATCH * 28 * 28);
  const photos = new Array<Image>(GPU_BATCH).fill(photo);
  const cases = [
    {
      name: `GPU batch ${GPU_BATCH}: 500x375 RandomResizedCrop(224) + flip + normalise`,
      file,
      size: 224,
      image: photo,
      run: () => gpuTrainBatch(photos, rng, { size: 224 }),
    },
    {
      name: `GPU batch ${GPU_BATCH}: 28x28 grey RandomResizedCrop(32) + flip + normalise (demo)`,
      file: "",
      size: 32,
      image: greyToRgb(grey, 28, 28),
      run: () => gpuTrainBatchUniform(grey, GPU_BATCH, 28, 28, 1, rng, { size: 32 }),
    },
  ];
  const out: BenchRecord[] = [];
  for (const c of cases) {
    const batch = await timeIt(
      () =>
        scopeAsync(async () => {
          c.run();
          await engine().sync();
        }),
      { warmup: 1, iters: quick ? 3 : 7 },
    );
    const seconds = batch / GPU_BATCH;
    const ours = { seconds, throughput: 1 / seconds, unit: "images/s" };
    const cpu = (await timeIt(() => {
      for (let i = 0; i < n; i++) {
        normalize(trainTransform(c.image, rng, { size: c.size }), IMAGENET_MEAN, IMAGENET_STD);
      }
    }, { warmup: 1, iters: 3 })) / n;
    const notes = { batch: GPU_BATCH, batchSeconds: batch, tsReferenceImagesPerSecond: 1 / cpu };
    if (await torchAvailable()) {
      const ref = await runTorch<{ seconds: number }>(TORCH_TRANSFORM, {
        file: c.file,
        size: c.size,
        n,
      });
      out.push(record("data", c.name, ours, {
        name: "torch-cpu (PIL, decoded once)",
        seconds: ref.seconds,
        throughput: 1 / ref.seconds,
      }, notes));
    } else {
      out.push(
        record("data", c.name, ours, {
          name: "ts-reference (CPU float64)",
          seconds: cpu,
          throughput: 1 / cpu,
        }, notes),
      );
    }
  }
  return out;
}

export async function benchData(opts: BenchOptions): Promise<BenchRecord[]> {
  const n = opts.quick ? 10 : 40;
  const rng = Rng.fromSeed(0).stream("augment");
  const bytes = syntheticJpeg(500, 375);
  const file = await Deno.makeTempFile({ suffix: ".jpg" });
  await Deno.writeFile(file, bytes);
  const grey: Image = { width: 28, height: 28, channels: 3, data: new Uint8Array(28 * 28 * 3) };
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
      const once = () => {
        const img = c.decode ? decodeImage(bytes, file) : grey;
        normalize(trainTransform(img, rng, { size: c.size }), IMAGENET_MEAN, IMAGENET_STD);
      };
      const seconds = (await timeIt(() => {
        for (let i = 0; i < n; i++) once();
      }, { warmup: 1, iters: 3 })) / n;
      const ours = { seconds, throughput: 1 / seconds, unit: "images/s" };
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
        }));
      } else {
        out.push(
          record("data", c.name, ours, { name: "ts-reference", seconds, throughput: 1 / seconds }),
        );
      }
    }
    out.push(...await benchGpu(file, decodeImage(bytes, file), n, rng, opts.quick ?? false));
  } finally {
    await Deno.remove(file);
  }
  return out;
}
