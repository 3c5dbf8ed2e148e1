/**
 * `openDataset(spec)`: the one entry point from a `--dataset` string to a `Dataset`.
 *
 *   idx:DIR            MNIST-family IDX files in DIR (val empty)
 *   fashion-mnist      Fashion-MNIST from $AKD_DATA/fashion-mnist or Debian's package
 *   folder:DIR         ImageFolder (train/ val/ test/ if present, else a seeded 50/20/30 split)
 *   coop:NAME:ROOT     a CoOp benchmark (split_zhou_<Name>.json) or ImageNet under ROOT
 */
import { InputError } from "../../engine/errors.ts";
import { cacheDataset, type CacheInfo } from "./cache.ts";
import { openCoop } from "./coop.ts";
import { openFashionMnist } from "./fashion_mnist.ts";
import { openFolder } from "./folder.ts";
import type { Dataset } from "./image.ts";
import { openIdx } from "./idx.ts";
import { type ScanOptions, verifyDataset } from "./verify.ts";

export interface OpenOptions extends ScanOptions {
  /** Seed of `folder:`'s stratified split (default 0). */
  seed?: number;
  /** Serve file-backed splits from the decoded cache at this shorter side (decodes all once). */
  cacheSize?: number;
  /** Cache folder (default `$AKD_CACHE`, else `.cache/activekd`). */
  cacheDir?: string;
  /** Decode every image now, failing on (or, with `skipBad`, dropping) bad ones. */
  verify?: boolean;
}

export interface OpenedDataset extends Dataset {
  /** Set when `cacheSize` was given and a split is file-backed. */
  readonly cache?: CacheInfo;
  /** Images left out by `skipBad`. */
  readonly skipped: number;
}

export const DATASET_SPEC_HELP = "idx:DIR, folder:DIR, coop:NAME:ROOT or fashion-mnist";

/** Opens the dataset `spec` names; a bad spec or bad files are InputErrors. */
export async function openDataset(spec: string, opts: OpenOptions = {}): Promise<OpenedDataset> {
  let ds = await openSource(spec, opts);
  if (opts.cacheSize !== undefined) {
    const { dataset, cache } = await cacheDataset(ds, {
      ...opts,
      size: opts.cacheSize,
      dir: opts.cacheDir,
    });
    return { ...dataset, cache, skipped: cache?.skipped ?? 0 };
  }
  let skipped = 0;
  if (opts.verify) ({ dataset: ds, skipped } = await verifyDataset(ds, opts));
  return { ...ds, skipped };
}

function openSource(spec: string, opts: OpenOptions): Promise<Dataset> {
  if (spec === "fashion-mnist") return openFashionMnist();
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? "" : spec.slice(colon + 1);
  if (kind === "idx" && rest) return openIdx(rest);
  if (kind === "folder" && rest) return openFolder(rest, { seed: opts.seed });
  if (kind === "coop") {
    const second = rest.indexOf(":");
    if (second > 0 && second < rest.length - 1) {
      return openCoop(rest.slice(0, second), rest.slice(second + 1));
    }
  }
  throw new InputError(`--dataset "${spec}": expected ${DATASET_SPEC_HELP}`);
}
