/**
 * JPEG and PNG decoding to RGB, by content (magic bytes), not by file extension.
 *
 * The decoder is libvips (libjpeg-turbo, libspng) through `sharp`, whose npm package ships the
 * native library: measured ~4× faster than jpeg-js on a 500×375 JPEG. When sharp cannot load
 * (no prebuilt binary for the platform), the pure-JavaScript pair below decodes instead;
 * `imageDecoder()` says which one runs (and why the fallback), for `akd data` and `bench data`.
 * - sharp (8-bit files) is asked for the file's own pixels, as PIL's `Image.open(...).convert("RGB")` gives
 *   them: no EXIF rotation, no ICC colour transform (`ignoreIcc`), no resampling. Its JPEG pixels
 *   match PIL's (both libjpeg) up to IDCT rounding and chroma upsampling.
 * - `jpeg-js` decodes baseline and progressive JPEG (grey, YCbCr, CMYK/YCCK). Its chroma
 *   upsampling is box replication where libjpeg (PIL) uses a triangle filter, so 4:2:0 images
 *   differ from PIL's pixels by a few levels (measured: max 5, mean 1.1 on a smooth 64×48 image;
 *   4:4:4 max 3). EXIF orientation is not applied (neither does PIL's `Image.open`). It also
 *   decodes what sharp leaves in another colour space (CMYK JPEG).
 * - `fast-png` decodes every PNG colour type and bit depth (1–16, palette, interlaced); it also
 *   decodes 16-bit PNGs when sharp runs (libvips rounds 16 → 8 bits differently from PIL).
 *
 * Grey becomes 3 equal channels; alpha is dropped (no compositing, as PIL's `convert("RGB")`);
 * 16-bit samples are scaled to 8 bits exactly (round(v / 257)).
 */
import jpeg from "jpeg-js";
import { convertIndexedToRgb, decode as decodePngRaw, type DecodedPng } from "fast-png";
import type SharpType from "sharp";
import { InputError } from "../../engine/errors.ts";
import type { Image } from "./image.ts";

/** Largest image accepted, in megapixels (a guard against decompression bombs). */
const MAX_MEGAPIXELS = 200;

type Sharp = typeof SharpType;
let sharpLoad: Promise<{ sharp: Sharp } | { why: string }> | undefined;

/** sharp, loaded once; a failed load (no native binary here) selects the fallback, with why. */
function loadSharp(): Promise<{ sharp: Sharp } | { why: string }> {
  sharpLoad ??= import("sharp").then(
    (m) => ({ sharp: m.default }),
    (e) => ({ why: String((e as Error).message ?? e).split("\n")[0] }),
  );
  return sharpLoad;
}

/** Which decoder `decodeImage` uses here, e.g. "sharp 0.35.6 (libvips 8.17.3)". */
export async function imageDecoder(): Promise<string> {
  const s = await loadSharp();
  if ("why" in s) return `jpeg-js + fast-png (sharp unavailable: ${s.why})`;
  return `sharp ${s.sharp.versions.sharp} (libvips ${s.sharp.versions.vips})`;
}

/**
 * Decodes JPEG or PNG bytes with sharp, or the JavaScript decoders where sharp cannot load;
 * anything else, or a corrupt file, is an InputError naming `file`.
 */
export async function decodeImage(bytes: Uint8Array, file: string): Promise<Image> {
  const s = await loadSharp();
  if ("why" in s) return decodeImageJs(bytes, file);
  const kind = sniffOrThrow(bytes, file);
  // 16-bit PNG (IHDR bit depth, byte 24): fast-png, which scales exactly as round(v / 257).
  if (kind === "png" && bytes[24] === 16) return decodeImageJs(bytes, file);
  let img: Image | undefined;
  try {
    img = await decodeWithSharp(s.sharp, bytes);
  } catch (e) {
    // libvips reports one line per warning: the first says what is wrong.
    const why = (e as Error).message.split("\n")[0];
    throw new InputError(`${file}: corrupt ${kind.toUpperCase()} (${why})`);
  }
  return img ?? decodeImageJs(bytes, file);
}

/** The fallback decoders (jpeg-js, fast-png), synchronous; same errors as `decodeImage`. */
export function decodeImageJs(bytes: Uint8Array, file: string): Image {
  const kind = sniffOrThrow(bytes, file);
  try {
    return kind === "jpeg" ? decodeJpeg(bytes) : decodePng(bytes);
  } catch (e) {
    throw new InputError(`${file}: corrupt ${kind.toUpperCase()} (${(e as Error).message})`);
  }
}

function sniffOrThrow(bytes: Uint8Array, file: string): "jpeg" | "png" {
  const kind = sniff(bytes);
  if (kind === undefined) throw new InputError(`${file}: not a JPEG or PNG image`);
  return kind;
}

/**
 * The stored pixels as 8-bit RGB, or undefined for a colour space other than grey or RGB
 * (CMYK JPEG: jpeg-js converts it as PIL does, where libvips would apply a colour profile).
 */
async function decodeWithSharp(sharp: Sharp, bytes: Uint8Array): Promise<Image | undefined> {
  const { data, info } = await sharp(bytes, {
    limitInputPixels: MAX_MEGAPIXELS * 1e6,
    ignoreIcc: true,
    autoOrient: false,
    failOn: "warning", // a truncated or damaged file is an error, not a grey tail
  }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (width === 0 || height === 0) throw new Error("empty image");
  if (channels !== 1 && channels !== 3) return undefined;
  const n = width * height;
  if (data.length !== n * channels) {
    throw new Error(`pixel data holds ${data.length} bytes for ${n * channels} samples`);
  }
  const samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (channels === 3) return { width, height, channels: 3, data: Uint8Array.from(samples) };
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = samples[p];
  return { width, height, channels: 3, data: rgb };
}

function sniff(b: Uint8Array): "jpeg" | "png" | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length >= 8 && png.every((v, i) => b[i] === v)) return "png";
  return undefined;
}

function decodeJpeg(bytes: Uint8Array): Image {
  const out = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    tolerantDecoding: false,
    maxResolutionInMP: MAX_MEGAPIXELS,
    maxMemoryUsageInMB: 2048,
  });
  if (out.width === 0 || out.height === 0) throw new Error("empty image");
  return { width: out.width, height: out.height, channels: 3, data: out.data };
}

function decodePng(bytes: Uint8Array): Image {
  const png = decodePngRaw(bytes);
  const { width, height } = png;
  if (width * height > MAX_MEGAPIXELS * 1e6) throw new Error(`${width}×${height} is too large`);
  if (png.palette) return paletteToRgb(png);
  const samples = png.depth < 8 ? unpackBits(png) : to8Bit(png);
  const c = png.channels;
  const n = width * height;
  if (samples.length !== n * c) throw new Error(`pixel data holds ${samples.length} samples`);
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    if (c >= 3) {
      data[3 * p] = samples[c * p];
      data[3 * p + 1] = samples[c * p + 1];
      data[3 * p + 2] = samples[c * p + 2];
    } else {
      const v = samples[c * p];
      data[3 * p] = v;
      data[3 * p + 1] = v;
      data[3 * p + 2] = v;
    }
  }
  return { width, height, channels: 3, data };
}

function paletteToRgb(png: DecodedPng): Image {
  const rgbx = convertIndexedToRgb(png);
  const stride = png.palette![0].length; // 3, or 4 when the palette carries alpha
  const n = png.width * png.height;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    data[3 * p] = rgbx[stride * p];
    data[3 * p + 1] = rgbx[stride * p + 1];
    data[3 * p + 2] = rgbx[stride * p + 2];
  }
  return { width: png.width, height: png.height, channels: 3, data };
}

/** 16-bit → 8-bit by exact scaling; 8-bit passes through. */
function to8Bit(png: DecodedPng): Uint8Array {
  if (png.depth === 8) return png.data as Uint8Array;
  const src = png.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.round(src[i] / 257);
  return out;
}

/** Grey at 1, 2 or 4 bits: rows are byte-aligned; values are scaled to 0..255. */
function unpackBits(png: DecodedPng): Uint8Array {
  const { width, height, depth } = png;
  const src = png.data;
  const rowBytes = Math.ceil((width * depth) / 8);
  const max = (1 << depth) - 1;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = src[y * rowBytes + (bit >> 3)];
      const v = (byte >> (8 - depth - (bit & 7))) & max;
      out[y * width + x] = Math.round((v * 255) / max);
    }
  }
  return out;
}
