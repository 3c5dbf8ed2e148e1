/**
 * The CoOp benchmarks, laid out as in CoOp's DATASETS.md under a data root ROOT:
 * `ROOT/<folder>/split_zhou_<Name>.json` (keys train/val/test, entries
 * `[path relative to the image folder, label, class name]`) and the images below
 * `ROOT/<folder>/<image folder>/`. ROOT may also be the dataset's own folder.
 *
 * - FGVCAircraft has no split JSON in CoOp: it reads `fgvc_aircraft/variants.txt` (class names,
 *   label = line number) and `images_variant_{train,val,test}.txt` (`<image id> <class name>`),
 *   images at `fgvc_aircraft/images/<id>.jpg`. That is what we read too.
 * - ImageNet: `imagenet/images/{train,val}/<wnid>/*`, labels in sorted wnid order, class names
 *   from CoOp's `imagenet/classnames.txt` (`<wnid> <name>`); the val set is also the test set.
 *
 * Class names: label c is named by the first entry with label c (train first, as Dassl does),
 * with `_` replaced by a space; EuroSAT's and Caltech101's original folder names are renamed as
 * CoOp does when it writes the split (its JSON files already hold the new names).
 */
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import { exists } from "../../engine/files.ts";
import { FileImageSet } from "./files.ts";
import { classFolders, imagesBelow } from "./folder.ts";
import type { Dataset } from "./image.ts";

interface CoopInfo {
  /** Folder below ROOT. */
  folder: string;
  /** Image folder below it ("" = the dataset folder itself). */
  images: string;
  /** Split JSON file name (absent: FGVCAircraft's text files, ImageNet's folders). */
  split?: string;
  template?: string;
  templates?: readonly string[];
  /** CoOp's renames of original folder names. */
  rename?: Readonly<Record<string, string>>;
  aliases?: readonly string[];
}

/** The 7-template ensemble CoOp and PCoreSet use for ImageNet (`IMAGENET_TEMPLATES_SELECT`). */
export const IMAGENET_TEMPLATES: readonly string[] = [
  "itap of a {}.",
  "a bad photo of the {}.",
  "a origami {}.",
  "a photo of the large {}.",
  "a {} in a video game.",
  "art of the {}.",
  "a photo of the small {}.",
];

const EUROSAT_NAMES = {
  AnnualCrop: "Annual Crop Land",
  Forest: "Forest",
  HerbaceousVegetation: "Herbaceous Vegetation Land",
  Highway: "Highway or Road",
  Industrial: "Industrial Buildings",
  Pasture: "Pasture Land",
  PermanentCrop: "Permanent Crop Land",
  Residential: "Residential Buildings",
  River: "River",
  SeaLake: "Sea or Lake",
};

const CALTECH_NAMES = {
  airplanes: "airplane",
  Faces: "face",
  Leopards: "leopard",
  Motorbikes: "motorbike",
};

/** The datasets `coop:NAME:ROOT` knows, by canonical name (docs/method.md §1 templates). */
export const COOP_DATASETS: Readonly<Record<string, CoopInfo>> = {
  Caltech101: {
    folder: "caltech-101",
    images: "101_ObjectCategories",
    split: "split_zhou_Caltech101.json",
    template: "a photo of a {}.",
    rename: CALTECH_NAMES,
  },
  DTD: {
    folder: "dtd",
    images: "images",
    split: "split_zhou_DescribableTextures.json",
    template: "{} texture.",
    aliases: ["DescribableTextures"],
  },
  EuroSAT: {
    folder: "eurosat",
    images: "2750",
    split: "split_zhou_EuroSAT.json",
    template: "a centered satellite photo of {}.",
    rename: EUROSAT_NAMES,
  },
  FGVCAircraft: {
    folder: "fgvc_aircraft",
    images: "images",
    template: "a photo of a {}, a type of aircraft.",
    aliases: ["FGVC", "Aircraft"],
  },
  Food101: {
    folder: "food-101",
    images: "images",
    split: "split_zhou_Food101.json",
    template: "a photo of {}, a type of food.",
  },
  Flowers102: {
    folder: "oxford_flowers",
    images: "jpg",
    split: "split_zhou_OxfordFlowers.json",
    template: "a photo of a {}, a type of flower.",
    aliases: ["OxfordFlowers", "Flowers"],
  },
  OxfordPets: {
    folder: "oxford_pets",
    images: "images",
    split: "split_zhou_OxfordPets.json",
    template: "a photo of a {}, a type of pet.",
    aliases: ["Pets"],
  },
  StanfordCars: {
    folder: "stanford_cars",
    images: "",
    split: "split_zhou_StanfordCars.json",
    template: "a photo of a {}.",
    aliases: ["Cars"],
  },
  SUN397: {
    folder: "sun397",
    images: "SUN397",
    split: "split_zhou_SUN397.json",
    template: "a photo of a {}.",
  },
  UCF101: {
    folder: "ucf101",
    images: "UCF-101-midframes",
    split: "split_zhou_UCF101.json",
    template: "a photo of a person doing {}.",
  },
  ImageNet: { folder: "imagenet", images: "images", templates: IMAGENET_TEMPLATES },
};

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/** The canonical name for NAME (case, `-` and `_` ignored; CoOp's class names accepted). */
export function coopName(name: string): string | undefined {
  for (const [canonical, info] of Object.entries(COOP_DATASETS)) {
    if ([canonical, ...(info.aliases ?? [])].some((n) => squash(n) === squash(name))) {
      return canonical;
    }
  }
  return undefined;
}

export async function openCoop(name: string, root: string): Promise<Dataset> {
  const canonical = coopName(name);
  if (!canonical) {
    throw new InputError(
      `coop: unknown dataset "${name}" (known: ${Object.keys(COOP_DATASETS).join(", ")})`,
    );
  }
  const info = COOP_DATASETS[canonical];
  const marker = info.split ?? (canonical === "ImageNet" ? "images" : "variants.txt");
  const dir = (await exists(join(root, info.folder, marker)))
    ? join(root, info.folder)
    : (await exists(join(root, marker)))
    ? root
    : undefined;
  if (!dir) {
    throw new InputError(
      `coop:${canonical}: ${join(root, info.folder, marker)} not found (ROOT is CoOp's data ` +
        `root, holding ${info.folder}/)`,
    );
  }
  const imageDir = join(dir, info.images);
  const base = { name: canonical, template: info.template, templates: info.templates };
  if (info.split) {
    return { ...base, ...(await readSplitJson(join(dir, info.split), imageDir, info)) };
  }
  if (canonical === "FGVCAircraft") return { ...base, ...(await readAircraft(dir, imageDir)) };
  return { ...base, ...(await readImageNet(dir, imageDir)) };
}

type Entry = [string, number, string];

async function readSplitJson(file: string, imageDir: string, info: CoopInfo) {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    throw new InputError(`${file}: cannot read split JSON (${(e as Error).message})`);
  }
  const parts = ["train", "val", "test"] as const;
  const entries = {} as Record<(typeof parts)[number], Entry[]>;
  for (const part of parts) {
    const list = (json as Record<string, unknown>)?.[part];
    if (!Array.isArray(list)) throw new InputError(`${file}: "${part}" is not a list`);
    list.forEach((e, i) => {
      if (
        !Array.isArray(e) || typeof e[0] !== "string" || !Number.isInteger(e[1]) || e[1] < 0 ||
        typeof e[2] !== "string"
      ) {
        throw new InputError(`${file}: ${part}[${i}] is not [path, label, class name]`);
      }
    });
    entries[part] = list as Entry[];
  }
  const names = new Map<number, string>();
  for (const part of parts) {
    for (const [, label, cname] of entries[part]) {
      const clean = cleanName(cname, info.rename);
      const known = names.get(label);
      if (known === undefined) names.set(label, clean);
      else if (known !== clean) {
        throw new InputError(`${file}: label ${label} is both "${known}" and "${clean}"`);
      }
    }
  }
  const classes = denseClasses(names, file);
  const set = (list: Entry[]) =>
    new FileImageSet(list.map((e) => join(imageDir, e[0])), Int32Array.from(list, (e) => e[1]));
  return {
    classes,
    splits: { train: set(entries.train), val: set(entries.val), test: set(entries.test) },
  };
}

export function cleanName(name: string, rename?: Readonly<Record<string, string>>): string {
  return (rename?.[name] ?? name).replaceAll("_", " ");
}

function denseClasses(names: Map<number, string>, file: string): string[] {
  const classes: string[] = [];
  for (let c = 0; c < names.size; c++) {
    const n = names.get(c);
    if (n === undefined) throw new InputError(`${file}: labels are not 0..${names.size - 1}`);
    classes.push(n);
  }
  return classes;
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(file)).split(/\r?\n/).map((l) => l.trim()).filter((l) => l);
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as Error).message})`);
  }
}

async function readAircraft(dir: string, imageDir: string) {
  const variants = await readLines(join(dir, "variants.txt"));
  const labelOf = new Map(variants.map((v, i) => [v, i]));
  const set = async (part: string) => {
    const file = join(dir, `images_variant_${part}.txt`);
    const paths: string[] = [];
    const labels: number[] = [];
    for (const [n, line] of (await readLines(file)).entries()) {
      const space = line.indexOf(" ");
      const label = space > 0 ? labelOf.get(line.slice(space + 1)) : undefined;
      if (label === undefined) {
        throw new InputError(`${file}: line ${n + 1} names no variant from variants.txt`);
      }
      paths.push(join(imageDir, `${line.slice(0, space)}.jpg`));
      labels.push(label);
    }
    return new FileImageSet(paths, Int32Array.from(labels));
  };
  return {
    classes: variants.map((v) => cleanName(v)),
    splits: { train: await set("train"), val: await set("val"), test: await set("test") },
  };
}

async function readImageNet(dir: string, imageDir: string) {
  const namesFile = join(dir, "classnames.txt");
  const nameOf = new Map<string, string>();
  for (const line of await readLines(namesFile)) {
    const space = line.indexOf(" ");
    if (space > 0) nameOf.set(line.slice(0, space), line.slice(space + 1));
  }
  const wnids = await classFolders(join(imageDir, "train"));
  const known = new Set(wnids);
  const classes = wnids.map((w) => {
    const n = nameOf.get(w);
    if (n === undefined) throw new InputError(`${namesFile}: no class name for ${w}`);
    return cleanName(n);
  });
  const set = async (part: string) => {
    const paths: string[] = [];
    const labels: number[] = [];
    const folders = new Set(await classFolders(join(imageDir, part)));
    for (const f of folders) {
      if (!known.has(f)) throw new InputError(`${join(imageDir, part, f)}: class not in train/`);
    }
    for (const [label, wnid] of wnids.entries()) {
      if (!folders.has(wnid)) continue;
      for (const file of await imagesBelow(join(imageDir, part, wnid))) {
        paths.push(file);
        labels.push(label);
      }
    }
    return new FileImageSet(paths, Int32Array.from(labels));
  };
  const test = await set("val");
  return { classes, splits: { train: await set("train"), val: test, test } };
}
