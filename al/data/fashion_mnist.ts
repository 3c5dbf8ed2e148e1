/**
 * Fashion-MNIST from a local copy: `$AKD_DATA/fashion-mnist/` first, then Debian's
 * `dataset-fashion-mnist` package (`/usr/share/datasets/fashion-mnist/`, the four gzipped IDX
 * files). Nothing is downloaded.
 */
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { exists } from "../../engine/files.ts";
import { dataDir } from "../env.ts";
import type { Dataset } from "./image.ts";
import { openIdx } from "./idx.ts";

export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

export const DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

/** The folders searched, in order. */
export function fashionMnistDirs(): string[] {
  const data = dataDir();
  return [...(data ? [join(data, "fashion-mnist")] : []), DEBIAN_FASHION_MNIST];
}

export async function openFashionMnist(dirs = fashionMnistDirs()): Promise<Dataset> {
  for (const dir of dirs) {
    if (!(await holdsIdx(dir))) continue;
    return await openIdx(dir, {
      name: "fashion-mnist",
      classes: FASHION_MNIST_CLASSES,
      template: "a photo of a {}.",
    });
  }
  throw new InputError(
    `fashion-mnist: not found in ${dirs.join(" or ")}; install it with ` +
      "`apt-get install dataset-fashion-mnist`, or set AKD_DATA to a folder holding " +
      "fashion-mnist/train-images-idx3-ubyte.gz and the other three IDX files",
  );
}

async function holdsIdx(dir: string): Promise<boolean> {
  for (const name of ["train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"]) {
    if (await exists(join(dir, name))) return true;
  }
  return false;
}
