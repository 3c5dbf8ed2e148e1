/**
 * The text normalisation of CLIP's `SimpleTokenizer` before BPE: `basic_clean` (HTML-unescape
 * twice, strip), `whitespace_clean` (whitespace runs to one space, strip), then lower-case.
 *
 * Not replicated: `ftfy.fix_text`, which the reference runs first. It repairs mojibake
 * (e.g. "Ã©" → "é"), HTML entities, curly quotes and some other Unicode oddities; on clean
 * UTF-8 text it changes nothing the later steps see. Text with mojibake can therefore tokenise
 * differently from the reference.
 */
import { htmlUnescape } from "./html_unescape.ts";

/**
 * `\s` of Python's `regex` module (the Unicode White_Space property), used by `whitespace_clean`
 * and the token pattern. JavaScript's `\s` differs (it adds U+FEFF and lacks U+0085).
 */
export const WHITE_SPACE_CLASS =
  "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const WHITE_SPACE_RUN = new RegExp(`[${WHITE_SPACE_CLASS}]+`, "gu");

/** Python's `str.isspace` (used by `str.strip`): White_Space plus U+001C..U+001F. */
function isPythonSpace(code: number): boolean {
  return (code >= 0x9 && code <= 0xd) || (code >= 0x1c && code <= 0x20) || code === 0x85 ||
    code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 ||
    code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000;
}

/** Python's `str.strip()` with no arguments (all its space characters are in the BMP). */
function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** `whitespace_clean(basic_clean(text)).lower()` of the reference, without ftfy. */
export function cleanText(text: string): string {
  const unescaped = pythonStrip(htmlUnescape(htmlUnescape(text)));
  return pythonStrip(unescaped.replace(WHITE_SPACE_RUN, " ")).toLowerCase();
}
