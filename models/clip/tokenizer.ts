/**
 * CLIP's byte-level BPE tokenizer: OpenAI CLIP's `SimpleTokenizer.encode` and `clip.tokenize`.
 * Text is cleaned (`text_clean.ts`; ftfy is not replicated), split by the reference pattern,
 * each piece's UTF-8 bytes are mapped to BPE characters, and merges apply lowest rank first.
 */
import { InputError } from "../../engine/errors.ts";
import {
  BYTE_TO_CHAR,
  END_OF_TEXT,
  END_OF_WORD,
  loadBpeVocab,
  START_OF_TEXT,
} from "./bpe_vocab.ts";
import { cleanText, WHITE_SPACE_CLASS } from "./text_clean.ts";

/**
 * The reference split pattern (case-insensitive, Unicode), with `regex`'s `\s`. Letters and
 * numbers follow the JavaScript engine's Unicode tables, so characters assigned only in a newer
 * Unicode version than the engine's (or the reference's `regex` module's) may split differently.
 */
const TOKEN_PATTERN = new RegExp(
  String.raw`<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|` +
    `[^${WHITE_SPACE_CLASS}\\p{L}\\p{N}]+`,
  "giu",
);

/**
 * U+0345 (combining ypogegrammeni) case-folds to a letter: JavaScript's /iu matches it as one,
 * while the `regex` module matches it with no alternative, so the reference drops it like a space.
 */
const YPOGEGRAMMENI = /\u0345/g;

/** Cached BPE results per word; cleared when full, so memory stays bounded. */
const CACHE_LIMIT = 1 << 16;

const utf8 = new TextEncoder();

export class ClipTokenizer {
  /** Id of `<|startoftext|>` (49406 in CLIP's vocabulary). */
  readonly startOfText: number;
  /** Id of `<|endoftext|>` (49407, the largest id: CLIP's text tower finds it by argmax). */
  readonly endOfText: number;
  readonly #encoder: Map<string, number>;
  /** "left right" → merge rank (BPE symbols never contain spaces). */
  readonly #ranks = new Map<string, number>();
  readonly #cache = new Map<string, readonly number[]>();

  private constructor(
    encoder: Map<string, number>,
    merges: [string, string][],
    startOfText: number,
    endOfText: number,
  ) {
    this.#encoder = encoder;
    merges.forEach(([left, right], rank) => this.#ranks.set(`${left} ${right}`, rank));
    this.startOfText = startOfText;
    this.endOfText = endOfText;
  }

  /**
   * Loads `bpe_simple_vocab_16e6.txt.gz` or a folder with `vocab.json` + `merges.txt`;
   * anything else is an `InputError`.
   */
  static async load(path: string): Promise<ClipTokenizer> {
    const vocab = await loadBpeVocab(path);
    return new ClipTokenizer(vocab.encoder, vocab.merges, vocab.startOfText, vocab.endOfText);
  }

  /** BPE ids of `text`, without start/end tokens (`SimpleTokenizer.encode`). */
  encode(text: string): number[] {
    const ids: number[] = [];
    const cleaned = cleanText(text).replace(YPOGEGRAMMENI, " ");
    for (const [piece] of cleaned.matchAll(TOKEN_PATTERN)) {
      if (piece === START_OF_TEXT) ids.push(this.startOfText);
      else if (piece === END_OF_TEXT) ids.push(this.endOfText);
      else ids.push(...this.#bpe(byteEncode(piece)));
    }
    return ids;
  }

  /**
   * `clip.tokenize`: one row per text, [SOT, ...ids, EOT] zero-padded to `contextLength`, as a
   * row-major [texts.length, contextLength] array. A text that does not fit is an `InputError`,
   * unless `truncate`: then the row keeps the first `contextLength` ids and ends with EOT.
   */
  tokenize(texts: readonly string[], contextLength = 77, truncate = false): Int32Array {
    if (!Number.isInteger(contextLength) || contextLength < 1) {
      throw new InputError(`context length must be a positive integer, got ${contextLength}`);
    }
    const rows = new Int32Array(texts.length * contextLength);
    texts.forEach((text, i) => {
      const ids = [this.startOfText, ...this.encode(text), this.endOfText];
      if (ids.length > contextLength) {
        if (!truncate) {
          const shown = JSON.stringify(text.length > 60 ? text.slice(0, 60) + "..." : text);
          throw new InputError(
            `text ${i} (${shown}) is too long for context length ${contextLength}: ` +
              `${ids.length} tokens with start/end (truncate to cut it)`,
          );
        }
        ids.length = contextLength;
        ids[contextLength - 1] = this.endOfText;
      }
      rows.set(ids, i * contextLength);
    });
    return rows;
  }

  /** Merges the word's symbols by rank until no ranked pair is left; ids of the result. */
  #bpe(word: string): readonly number[] {
    const cached = this.#cache.get(word);
    if (cached !== undefined) return cached;
    // One symbol per character (all BPE characters are single UTF-16 units); the last one
    // carries the end-of-word mark.
    let symbols = word.split("");
    symbols[symbols.length - 1] += END_OF_WORD;
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.#ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      // Merge every occurrence of the best pair, left to right without overlap.
      const left = symbols[best];
      const right = symbols[best + 1];
      const merged: string[] = symbols.slice(0, best);
      for (let i = best; i < symbols.length; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) {
          merged.push(left + right);
          i++;
        } else {
          merged.push(symbols[i]);
        }
      }
      symbols = merged;
    }
    const ids = symbols.map((symbol) => this.#encoder.get(symbol)!);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(word, ids);
    return ids;
  }
}

/** The piece's UTF-8 bytes as BPE characters (lone surrogates become U+FFFD's bytes). */
function byteEncode(piece: string): string {
  let chars = "";
  for (const byte of utf8.encode(piece)) chars += BYTE_TO_CHAR[byte];
  return chars;
}
