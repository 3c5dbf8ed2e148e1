/**
 * Reading CLIP's BPE vocabulary: OpenAI's `bpe_simple_vocab_16e6.txt.gz` (merge list only; the
 * vocabulary is derived from it as `SimpleTokenizer.__init__` does) or the Hugging Face layout,
 * a folder with `vocab.json` (token → id) and `merges.txt`.
 */
import { InputError } from "../../engine/errors.ts";

export const START_OF_TEXT = "<|startoftext|>";
export const END_OF_TEXT = "<|endoftext|>";
export const END_OF_WORD = "</w>";

/** CLIP uses the first 49152 - 256 - 2 merges of the file (49408 tokens in all). */
export const MERGES_USED = 49152 - 256 - 2;

/**
 * GPT-2's reversible byte → character table: printable Latin-1 bytes map to themselves, the
 * other 68 bytes to U+0100 onwards, so that no BPE symbol is whitespace or a control character.
 * Returned in the reference's dict order (printable bytes first), as [byte, char] pairs.
 */
function byteCharPairs(): [number, string][] {
  const isPrintable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const pairs: [number, string][] = [];
  for (let b = 0; b < 256; b++) if (isPrintable(b)) pairs.push([b, String.fromCharCode(b)]);
  let next = 256;
  for (let b = 0; b < 256; b++) if (!isPrintable(b)) pairs.push([b, String.fromCharCode(next++)]);
  return pairs;
}

const BYTE_CHAR_PAIRS = byteCharPairs();

/** `BYTE_TO_CHAR[b]` is the BPE character of byte `b`. */
export const BYTE_TO_CHAR: readonly string[] = BYTE_CHAR_PAIRS.slice()
  .sort((a, b) => a[0] - b[0]).map(([, char]) => char);

export interface BpeVocab {
  /** Token → id. */
  encoder: Map<string, number>;
  /** Merge rules in priority order (rank = index). */
  merges: [string, string][];
  startOfText: number;
  endOfText: number;
}

/** Loads `bpe_simple_vocab_16e6.txt.gz` or a Hugging Face `vocab.json` + `merges.txt` folder. */
export async function loadBpeVocab(path: string): Promise<BpeVocab> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw ioProblem(path, e);
  }
  if (info.isDirectory) return await loadHuggingFace(path);
  const bytes = await readBytes(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return await loadOpenAiGzip(path, bytes);
  throw new InputError(
    `unknown vocabulary format: ${path} (expected bpe_simple_vocab_16e6.txt.gz or a folder with ` +
      "vocab.json and merges.txt)",
  );
}

function ioProblem(path: string, e: unknown): InputError {
  const why = e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message;
  return new InputError(`cannot read vocabulary ${path}: ${why}`);
}

async function readBytes(path: string): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw ioProblem(path, e);
  }
}

function decodeUtf8(path: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${path}: not valid UTF-8`);
  }
}

async function gunzip(path: string, bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new InputError(`${path}: corrupt gzip data (${(e as Error).message})`);
  }
}

/**
 * Merge lines after the `#version` header, at most `MERGES_USED` of them, each "left right".
 * `firstLine` is the 1-based line number of `lines[0]`, for error messages.
 */
function parseMerges(path: string, lines: string[], firstLine: number): [string, string][] {
  const merges: [string, string][] = [];
  for (let i = 0; i < lines.length && merges.length < MERGES_USED; i++) {
    const parts = lines[i].trim().split(/\s+/);
    if (parts.length !== 2 || parts[0] === "") {
      throw new InputError(`${path}: line ${firstLine + i}: expected a merge "left right"`);
    }
    merges.push([parts[0], parts[1]]);
  }
  return merges;
}

async function loadOpenAiGzip(path: string, gz: Uint8Array<ArrayBuffer>): Promise<BpeVocab> {
  const lines = decodeUtf8(path, await gunzip(path, gz)).split("\n");
  const merges = parseMerges(path, lines.slice(1, 1 + MERGES_USED), 2);
  // Byte characters, the same with the end-of-word mark, merged pairs, then the two specials;
  // a repeated token keeps its last id, as the reference's dict(zip(vocab, range)) does.
  const tokens = BYTE_CHAR_PAIRS.map(([, char]) => char);
  tokens.push(...tokens.map((char) => char + END_OF_WORD));
  for (const [left, right] of merges) tokens.push(left + right);
  tokens.push(START_OF_TEXT, END_OF_TEXT);
  const encoder = new Map(tokens.map((token, id) => [token, id]));
  return { encoder, merges, startOfText: tokens.length - 2, endOfText: tokens.length - 1 };
}

async function readText(path: string): Promise<string> {
  return decodeUtf8(path, await readBytes(path));
}

async function loadHuggingFace(dir: string): Promise<BpeVocab> {
  const vocabPath = `${dir}/vocab.json`;
  const mergesPath = `${dir}/merges.txt`;
  let json: unknown;
  try {
    json = JSON.parse(await readText(vocabPath));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${vocabPath}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InputError(`${vocabPath}: expected an object mapping tokens to ids`);
  }
  const encoder = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (!Number.isInteger(id) || id < 0) {
      throw new InputError(`${vocabPath}: id of ${JSON.stringify(token)} is not an integer >= 0`);
    }
    encoder.set(token, id);
  }
  // HF's merges.txt starts with a "#version: ..." header, like the OpenAI file.
  const lines = (await readText(mergesPath)).replace(/\s+$/, "").split("\n");
  const header = lines[0]?.startsWith("#") ? 1 : 0;
  const merges = parseMerges(mergesPath, lines.slice(header), header + 1);
  // Every symbol BPE can produce must have an id, so that encoding never meets an unknown token.
  const needed = [START_OF_TEXT, END_OF_TEXT, ...BYTE_TO_CHAR];
  needed.push(...BYTE_TO_CHAR.map((char) => char + END_OF_WORD));
  needed.push(...merges.map(([left, right]) => left + right));
  const missing = needed.find((token) => !encoder.has(token));
  if (missing !== undefined) {
    throw new InputError(`${vocabPath}: no id for token ${JSON.stringify(missing)}`);
  }
  return {
    encoder,
    merges,
    startOfText: encoder.get(START_OF_TEXT)!,
    endOfText: encoder.get(END_OF_TEXT)!,
  };
}
