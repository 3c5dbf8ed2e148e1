/**
 * HTML character-reference decoding with the rules of Python's `html.unescape` (HTML5 §13.2.5.72).
 * References are found with Python's pattern. Named ones go to the `entities` package (all 2,231
 * HTML5 names; without `;`, the longest legacy name that prefixes the reference, as Python
 * does). Numeric ones follow Python's own rule, which differs from the HTML5 tokenizer's:
 * with or without `;`, the Windows-1252 remapping of C1 references, U+FFFD for out-of-range and
 * surrogate code points, and control and noncharacter code points removed.
 */
import { decodeHTML, DecodingMode } from "entities";

// Python's `_charref` pattern; `u` so that `{1,32}` counts code points as Python does.
const CHAR_REF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

// References to these code points decode to the Windows-1252 reading (or the listed text).
const INVALID_CHAR_REFS = new Map<number, string>([
  [0x00, "\ufffd"],
  [0x0d, "\r"],
  [0x80, "\u20ac"],
  [0x81, "\x81"],
  [0x82, "\u201a"],
  [0x83, "\u0192"],
  [0x84, "\u201e"],
  [0x85, "\u2026"],
  [0x86, "\u2020"],
  [0x87, "\u2021"],
  [0x88, "\u02c6"],
  [0x89, "\u2030"],
  [0x8a, "\u0160"],
  [0x8b, "\u2039"],
  [0x8c, "\u0152"],
  [0x8d, "\x8d"],
  [0x8e, "\u017d"],
  [0x8f, "\x8f"],
  [0x90, "\x90"],
  [0x91, "\u2018"],
  [0x92, "\u2019"],
  [0x93, "\u201c"],
  [0x94, "\u201d"],
  [0x95, "\u2022"],
  [0x96, "\u2013"],
  [0x97, "\u2014"],
  [0x98, "\u02dc"],
  [0x99, "\u2122"],
  [0x9a, "\u0161"],
  [0x9b, "\u203a"],
  [0x9c, "\u0153"],
  [0x9d, "\x9d"],
  [0x9e, "\u017e"],
  [0x9f, "\u0178"],
]);

/** Control characters and noncharacters that a numeric reference decodes to nothing. */
function isDroppedCodePoint(cp: number): boolean {
  return (cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) ||
    (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

function decodeNumeric(ref: string): string {
  const hex = ref[1] === "x" || ref[1] === "X";
  const digits = ref.slice(hex ? 2 : 1).replace(/;$/, "");
  // Long digit strings become huge or Infinity: both fall in the out-of-range branch.
  const cp = hex ? parseInt(digits, 16) : Number(digits);
  const remapped = INVALID_CHAR_REFS.get(cp);
  if (remapped !== undefined) return remapped;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return "\ufffd";
  if (isDroppedCodePoint(cp)) return "";
  return String.fromCodePoint(cp);
}

/** `ref` is a name with or without `;` (Python's pattern: no `&`, `#`, `;` or space inside). */
function decodeNamed(ref: string): string {
  return decodeHTML("&" + ref, DecodingMode.Legacy);
}

/** Decodes the character references in `text` once, as Python's `html.unescape` does. */
export function htmlUnescape(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(
    CHAR_REF,
    (_, ref: string) => ref[0] === "#" ? decodeNumeric(ref) : decodeNamed(ref),
  );
}
