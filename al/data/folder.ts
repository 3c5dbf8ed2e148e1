/**
 * ImageFolder, as torchvision reads it: one sub-folder per class, classes in sorted name order
 * (label = position), images found recursively below each class folder with torchvision's image
 * extensions, in sorted (folder, file name) order. Hidden entries (".name") are skipped.
 *
 * Splits: when `DIR/train/` exists it is the train split and `DIR/val/`, `DIR/test/` the others
 * (a missing `test/` means val is also the test set, as with ImageNet; a missing `val/` means an
 * empty val). Otherwise every class is split on its own, after a seeded shuffle, into 50% train,
 * 20% val and the rest test (CoOp's proportions for datasets without an official split), with
 * round-half-up counts; each split lists its images in folder order.
 */
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { statIfExists } from "../../engine/files.ts";
import { Rng } from "../../engine/rng.ts";
import { FileImageSet } from "./files.ts";
import type { Dataset, ImageSet } from "./image.ts";
import { emptySet } from "./image.ts";
import { shuffle } from "./random.ts";

/** torchvision's `IMG_EXTENSIONS` (matched case-insensitively). Only JPEG and PNG decode. */
export const IMAGE_EXTENSIONS = [
  ".jpg",
  ".jpeg",
  ".png",
  ".ppm",
  ".bmp",
  ".pgm",
  ".tif",
  ".tiff",
  ".webp",
];

export const FOLDER_SPLIT = { train: 0.5, val: 0.2 } as const;

export interface FolderOptions {
  /** Seed of the stratified split (only used without train/ val/ test/ folders). */
  seed?: number;
}

export async function openFolder(dir: string, opts: FolderOptions = {}): Promise<Dataset> {
  const name = `folder:${dir}`;
  if (!(await isDir(dir))) throw new InputError(`${dir}: not a folder`);
  if (await isDir(join(dir, "train"))) {
    const classes = await classFolders(join(dir, "train"));
    const train = await readSplitFolder(join(dir, "train"), classes);
    const val = (await isDir(join(dir, "val")))
      ? await readSplitFolder(join(dir, "val"), classes)
      : undefined;
    const test = (await isDir(join(dir, "test")))
      ? await readSplitFolder(join(dir, "test"), classes)
      : val;
    if (!test) throw new InputError(`${dir}: has train/ but neither val/ nor test/`);
    return { name, classes, splits: { train, val: val ?? emptySet(), test } };
  }
  const classes = await classFolders(dir);
  const all = await readSplitFolder(dir, classes);
  return { name, classes, splits: stratifiedSplit(all, classes.length, opts.seed ?? 0) };
}

/** Sorted names of the (non-hidden) sub-folders; none is an InputError. */
export async function classFolders(dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readDir(dir)) {
    if (entry.name.startsWith(".")) continue;
    if (await isDir(join(dir, entry.name))) names.push(entry.name);
  }
  if (names.length === 0) throw new InputError(`${dir}: no class folders`);
  return names.sort(byCodeUnit);
}

/** Every image below `dir/<class>/` for each class folder present; unknown classes are errors. */
async function readSplitFolder(dir: string, classes: readonly string[]): Promise<FileImageSet> {
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const paths: string[] = [];
  const labels: number[] = [];
  for (const folder of await classFolders(dir)) {
    const label = labelOf.get(folder);
    if (label === undefined) {
      throw new InputError(`${join(dir, folder)}: class "${folder}" is not in the train split`);
    }
    const files = await imagesBelow(join(dir, folder));
    if (files.length === 0) throw new InputError(`${join(dir, folder)}: no image files`);
    for (const file of files) {
      paths.push(file);
      labels.push(label);
    }
  }
  return new FileImageSet(paths, Int32Array.from(labels));
}

/** Image files below `dir`, in torchvision's order: sorted by folder path, then by file name. */
export async function imagesBelow(dir: string): Promise<string[]> {
  const folders: { path: string; files: string[] }[] = [];
  const walk = async (path: string) => {
    const files: string[] = [];
    for (const entry of await readDir(path)) {
      if (entry.name.startsWith(".")) continue;
      const full = join(path, entry.name);
      if (await isDir(full)) await walk(full);
      else if (hasImageExtension(entry.name)) files.push(entry.name);
    }
    folders.push({ path, files: files.sort(byCodeUnit) });
  };
  await walk(dir);
  folders.sort((a, b) => byCodeUnit(a.path, b.path));
  return folders.flatMap((f) => f.files.map((name) => join(f.path, name)));
}

export function hasImageExtension(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Per class: shuffle, then the first 50% to train, the next 20% to val, the rest to test. */
function stratifiedSplit(all: FileImageSet, numClasses: number, seed: number) {
  const rng = Rng.fromSeed(seed).stream("folder-split");
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  all.labels.forEach((y, i) => byClass[y].push(i));
  const part: ("train" | "val" | "test")[] = new Array(all.length);
  for (const members of byClass) {
    const order = shuffle(rng, members.slice());
    const nTrain = Math.round(order.length * FOLDER_SPLIT.train);
    const nVal = Math.round(order.length * FOLDER_SPLIT.val);
    order.forEach((i, rank) => {
      part[i] = rank < nTrain ? "train" : rank < nTrain + nVal ? "val" : "test";
    });
  }
  const pick = (which: string): ImageSet => {
    const idx = [...part.keys()].filter((i) => part[i] === which);
    return new FileImageSet(
      idx.map((i) => all.paths[i]),
      Int32Array.from(idx, (i) => all.labels[i]),
    );
  };
  return { train: pick("train"), val: pick("val"), test: pick("test") };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function isDir(path: string): Promise<boolean> {
  return (await statIfExists(path))?.isDirectory ?? false; // follows symlinks, as torchvision does
}

async function readDir(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    throw new InputError(`${dir}: cannot list (${(e as Error).message})`);
  }
}
