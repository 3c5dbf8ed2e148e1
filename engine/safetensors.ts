/**
 * safetensors read/write: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`, then the
 * raw little-endian row-major data. Offsets are relative to the start of the data.
 *
 * On read, dtypes are mapped onto the few the engine computes with: F16/BF16/F64 become f32,
 * I64 becomes i32 (range-checked). Every malformed file is an `InputError` naming the file.
 */
import { InputError } from "./errors.ts";
import { writeFileAtomic } from "./files.ts";

/**
 * A tensor in host memory, row-major. `data` is a Float32Array for f32, an Int32Array for i32 and
 * a Uint8Array for u8 and bool (one byte per element, 0 or 1).
 */
export interface HostTensor {
  dtype: "f32" | "i32" | "u8" | "bool";
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export type HostDtype = HostTensor["dtype"];

export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of every dtype in the safetensors spec; only some of them can be read. */
const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

const WRITE_DTYPE: Record<HostDtype, { name: string; size: number }> = {
  f32: { name: "F32", size: 4 },
  i32: { name: "I32", size: 4 },
  u8: { name: "U8", size: 1 },
  bool: { name: "BOOL", size: 1 },
};

/** Typed arrays view the little-endian file bytes directly, which needs a little-endian host. */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("safetensors: big-endian hosts are not supported");
}

/**
 * Parses a safetensors file held in memory. `name` is used in error messages. f32, i32, u8 and
 * bool tensors are views into `bytes` where alignment allows (no copy of large weights), so
 * their `data.buffer` is the whole file: always use `data` with its byteOffset and length.
 */
export function readSafetensors(bytes: Uint8Array, name = "<memory>"): SafetensorsFile {
  const fail = failFor(name);
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const headerLength = headerLengthOf(bytes, bytes.length, fail);
  const { metadata, entries, dataStart } = parseHeader(
    bytes.subarray(8, 8 + headerLength),
    bytes.length,
    fail,
  );
  const tensors = new Map<string, HostTensor>();
  for (const [key, e] of entries) {
    const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    tensors.set(key, decode(key, e.dtype, e.shape, raw, fail));
  }
  return { tensors, metadata };
}

/** One tensor's place in a file: its dtype as the file names it, shape and data offsets. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

const failFor = (name: string) => (what: string): never => {
  throw new InputError(`${name}: not a valid safetensors file: ${what}`);
};

/** The header length in the first 8 bytes, checked against the file's size. */
function headerLengthOf(first8: Uint8Array, fileLength: number, fail: (w: string) => never) {
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > fileLength - 8) {
    fail(`header length ${headerLength} exceeds the ${fileLength - 8} bytes after it`);
  }
  return headerLength;
}

/** Parses and checks the JSON header of a file of `fileLength` bytes. */
function parseHeader(headerBytes: Uint8Array, fileLength: number, fail: (w: string) => never) {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (e) {
    fail(`header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail("header is not a JSON object");
  const dataStart = 8 + headerBytes.length;
  const dataLength = fileLength - dataStart;

  const metadata = parseMetadata((header as Record<string, unknown>)["__metadata__"], fail);
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, info] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") continue;
    entries.set(key, parseEntry(key, info, dataLength, fail));
  }

  // The data section must be tiled exactly: no overlap, no gap, nothing left over.
  const order = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = "";
  for (const [key, e] of order) {
    if (e.begin < covered) fail(`tensors "${previous}" and "${key}" overlap`);
    if (e.begin > covered) fail(`bytes ${covered}..${e.begin} of the data belong to no tensor`);
    covered = e.end;
    previous = key;
  }
  if (covered !== dataLength) {
    fail(`data is ${dataLength} bytes but the tensors cover only ${covered}`);
  }
  return { metadata, entries, dataStart };
}

/**
 * A safetensors file read on demand: the header is parsed and checked on open, tensor data is
 * read when asked for, whole or (F32) by rows, so a pool larger than memory can hold twice is
 * streamed instead of loaded. The caller closes it.
 */
export class SafetensorsReader {
  readonly #file: Deno.FsFile;
  readonly #dataStart: number;
  readonly #fail: (what: string) => never;
  #rows = new Uint8Array(0);

  private constructor(
    readonly path: string,
    file: Deno.FsFile,
    readonly metadata: Record<string, string>,
    readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    dataStart: number,
  ) {
    this.#file = file;
    this.#dataStart = dataStart;
    this.#fail = failFor(path);
  }

  /** Opens `path` and parses its header; a missing or malformed file is an `InputError`. */
  static async open(path: string): Promise<SafetensorsReader> {
    const file = await openFile(path);
    try {
      const fail = failFor(path);
      const { size, isDirectory } = await file.stat();
      if (isDirectory) throw new InputError(`${path}: is a directory`);
      if (size < 8) fail(`file is ${size} bytes, shorter than the 8-byte header length`);
      const headerLength = headerLengthOf(await readAt(file, 0, 8), size, fail);
      const { metadata, entries, dataStart } = parseHeader(
        await readAt(file, 8, headerLength),
        size,
        fail,
      );
      return new SafetensorsReader(path, file, metadata, entries, dataStart);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** The whole tensor `key` (undefined when the file has none), decoded as `loadSafetensors` does. */
  async tensor(key: string): Promise<HostTensor | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const raw = await readAt(this.#file, this.#dataStart + e.begin, e.end - e.begin);
    return decode(key, e.dtype, e.shape, raw, this.#fail);
  }

  /**
   * Rows [row0, row0 + n) of the F32 tensor `key` (rows: its first axis), in a buffer the reader
   * reuses: valid until its next call (streaming a pool then leaves no garbage per slice).
   */
  async f32Rows(key: string, row0: number, n: number): Promise<Float32Array> {
    const e = this.entries.get(key);
    if (!e || e.dtype !== "F32" || e.shape.length === 0) {
      throw new Error(`${this.path}: f32Rows needs an F32 tensor "${key}" of rank >= 1`);
    }
    const rowBytes = e.shape[0] ? (e.end - e.begin) / e.shape[0] : 0;
    if (row0 < 0 || n < 0 || row0 + n > e.shape[0]) {
      throw new Error(`${this.path}: rows ${row0}..${row0 + n} of "${key}" [${e.shape}]`);
    }
    if (this.#rows.length < n * rowBytes) this.#rows = new Uint8Array(n * rowBytes);
    const raw = this.#rows.subarray(0, n * rowBytes);
    await readInto(this.#file, this.#dataStart + e.begin + row0 * rowBytes, raw);
    // The tensor's last rows: a stream is done with the buffer, so the reader lets it go (freed
    // once the caller drops this view) instead of holding it until close.
    if (row0 + n === e.shape[0]) this.#rows = new Uint8Array(0);
    return new Float32Array(raw.buffer, 0, raw.length / 4);
  }

  close(): void {
    this.#file.close();
  }
}

async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`${path}: no such file`);
    throw e;
  }
}

/** Exactly `length` bytes at `offset` (a short file was already refused by the header check). */
async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await readInto(file, offset, out);
  return out;
}

async function readInto(file: Deno.FsFile, offset: number, out: Uint8Array): Promise<void> {
  await file.seek(offset, Deno.SeekMode.Start);
  for (let got = 0; got < out.length;) {
    const n = await file.read(out.subarray(got));
    if (n === null) throw new Error(`unexpected end of file at byte ${offset + got}`);
    got += n;
  }
}

/** Reads and parses a safetensors file; a missing or malformed file is an `InputError`. */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`${path}: no such file`);
    if (e instanceof Deno.errors.IsADirectory) throw new InputError(`${path}: is a directory`);
    throw e;
  }
  return readSafetensors(bytes, path);
}

/**
 * Serialises tensors. Output is deterministic: header keys in code-unit order of the names, data
 * ordered by element size (largest first) then name, so every tensor is aligned to its element
 * size; the header is space-padded so the data starts 8-byte aligned.
 */
export function writeSafetensors(
  tensors: Record<string, HostTensor> | Map<string, HostTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const names = list.map(([n]) => n).sort(byCodeUnit);
  const byName = new Map(list);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") {
      throw new InputError(`safetensors metadata "${key}" must be a string, got ${typeof value}`);
    }
  }
  for (const n of names) checkTensor(n, byName.get(n)!);

  const dataOrder = [...names].sort((a, b) =>
    WRITE_DTYPE[byName.get(b)!.dtype].size - WRITE_DTYPE[byName.get(a)!.dtype].size ||
    byCodeUnit(a, b)
  );
  const offsets = new Map<string, [number, number]>();
  let dataLength = 0;
  for (const n of dataOrder) {
    const bytes = byName.get(n)!.data.byteLength;
    offsets.set(n, [dataLength, dataLength + bytes]);
    dataLength += bytes;
  }

  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    header["__metadata__"] = Object.fromEntries(
      Object.entries(metadata).sort(([a], [b]) => byCodeUnit(a, b)),
    );
  }
  for (const n of names) {
    const t = byName.get(n)!;
    header[n] = { dtype: WRITE_DTYPE[t.dtype].name, shape: t.shape, data_offsets: offsets.get(n) };
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(headerBytes);
    headerBytes = withSpaces;
  }

  const out = new Uint8Array(8 + padded + dataLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded, true);
  view.setUint32(4, 0, true);
  out.set(headerBytes, 8);
  for (const n of dataOrder) {
    const { data } = byName.get(n)!;
    out.set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      8 + padded + offsets.get(n)![0],
    );
  }
  return out;
}

/** Writes a safetensors file atomically (engine/files.ts). */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, HostTensor> | Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
}

function parseMetadata(
  value: unknown,
  fail: (what: string) => never,
): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail("__metadata__ is not a JSON object");
  const metadata: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") fail(`__metadata__ value "${key}" is not a string`);
    metadata[key] = v as string;
  }
  return metadata;
}

function parseEntry(
  key: string,
  info: unknown,
  dataLength: number,
  fail: (what: string) => never,
): { dtype: string; shape: number[]; begin: number; end: number } {
  const at = `tensor "${key}"`;
  if (!isPlainObject(info)) fail(`${at} is not a JSON object`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== "string") fail(`${at} has no string "dtype"`);
  const size = DTYPE_SIZE[dtype as string];
  if (size === undefined) fail(`${at} has unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    fail(`${at} "shape" is not an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`${at} "data_offsets" is not [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(`${at} data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    fail(`${at} data_offsets [${begin}, ${end}] lie beyond the ${dataLength} data bytes`);
  }
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  if (elements * size !== end - begin) {
    fail(
      `${at} ${dtype} [${shape}] needs ${elements * size} bytes but data_offsets span ${
        end - begin
      }`,
    );
  }
  return { dtype: dtype as string, shape: shape as number[], begin, end };
}

/** Converts the bytes of one tensor to a host tensor; f32, i32, u8 and bool data are views. */
function decode(
  key: string,
  dtype: string,
  shape: number[],
  raw: Uint8Array,
  fail: (what: string) => never,
): HostTensor {
  switch (dtype) {
    case "F32":
      return { dtype: "f32", shape, data: typed(raw, Float32Array) };
    case "F64":
      return { dtype: "f32", shape, data: narrowF64(key, typed(raw, Float64Array), fail) };
    case "F16":
      return { dtype: "f32", shape, data: Float32Array.from(typed(raw, Float16Array)) };
    case "BF16":
      return { dtype: "f32", shape, data: widen(typed(raw, Uint16Array), bfloat16ToFloat) };
    case "I32":
      return { dtype: "i32", shape, data: typed(raw, Int32Array) };
    case "I64":
      return { dtype: "i32", shape, data: narrowI64(key, typed(raw, Int32Array), fail) };
    case "U8":
      return { dtype: "u8", shape, data: raw };
    case "BOOL": {
      const bad = raw.findIndex((b) => b > 1);
      if (bad >= 0) fail(`tensor "${key}" BOOL element ${bad} is ${raw[bad]}, not 0 or 1`);
      return { dtype: "bool", shape, data: raw };
    }
    default:
      return fail(`tensor "${key}" has dtype ${dtype}, which this engine cannot load`);
  }
}

/**
 * A typed view of a tensor's bytes: zero-copy when they are aligned to the element size (always
 * in files whose header is padded), else over an aligned copy.
 */
function typed<T>(
  raw: Uint8Array,
  Typed: {
    new (buffer: ArrayBuffer, offset: number, length: number): T;
    BYTES_PER_ELEMENT: number;
  },
): T {
  const size = Typed.BYTES_PER_ELEMENT;
  const aligned = raw.byteOffset % size === 0 ? raw : raw.slice();
  return new Typed(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.length / size);
}

function widen(bits: Uint16Array, convert: (h: number) => number): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]);
  return out;
}

const bfloatScratch = new Uint32Array(1);
const bfloatAsFloat = new Float32Array(bfloatScratch.buffer);

/** bfloat16 bits to a number: the top half of a float32. */
export function bfloat16ToFloat(h: number): number {
  bfloatScratch[0] = h << 16;
  return bfloatAsFloat[0];
}

/** F64 to f32, rounding to nearest; a finite value beyond the f32 range is an error. */
function narrowF64(key: string, values: Float64Array, fail: (what: string) => never): Float32Array {
  const out = Float32Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]) && Number.isFinite(values[i])) {
      fail(`tensor "${key}" F64 element ${i} = ${values[i]} does not fit in float32`);
    }
  }
  return out;
}

/** I64 as (lo, hi) int32 pairs to int32; a value fits iff hi is the sign extension of lo. */
function narrowI64(key: string, words: Int32Array, fail: (what: string) => never): Int32Array {
  const out = new Int32Array(words.length / 2);
  for (let i = 0; i < out.length; i++) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    if (hi !== lo >> 31) {
      const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
      fail(`tensor "${key}" I64 element ${i} = ${value} does not fit in int32`);
    }
    out[i] = lo;
  }
  return out;
}

function checkTensor(name: string, t: HostTensor): void {
  const at = `safetensors tensor "${name}"`;
  if (name === "__metadata__") throw new InputError(`${at}: name is reserved`);
  const expected = { f32: Float32Array, i32: Int32Array, u8: Uint8Array, bool: Uint8Array }[
    t.dtype
  ];
  if (expected === undefined) throw new InputError(`${at}: unknown dtype ${t.dtype}`);
  if (!(t.data instanceof expected)) {
    throw new InputError(`${at}: dtype ${t.dtype} needs a ${expected.name}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
    throw new InputError(`${at}: shape [${t.shape}] is not non-negative integers`);
  }
  const elements = t.shape.reduce((a, b) => a * b, 1);
  if (elements !== t.data.length) {
    throw new InputError(
      `${at}: shape [${t.shape}] has ${elements} elements, data has ${t.data.length}`,
    );
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
