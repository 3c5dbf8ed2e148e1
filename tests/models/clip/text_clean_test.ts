import assert from "node:assert/strict";
import { cleanText } from "../../../models/clip/text_clean.ts";

Deno.test("cleanText unescapes twice, collapses White_Space runs, strips, lower-cases", () => {
  assert.equal(cleanText("  Fish &amp;amp; CHIPS\n\t\u3000x  "), "fish & chips x");
  assert.equal(cleanText("a&nbsp;&nbsp;b"), "a b");
});

Deno.test("cleanText follows Python's two whitespace sets", () => {
  // U+001C is not White_Space (kept inside) but is stripped at the ends by str.strip();
  // U+FEFF is neither (JavaScript's \s and trim() would remove it); U+0085 is both.
  assert.equal(cleanText("\x1cx\x1cy\x85z\ufeff\x1c"), "x\x1cy z\ufeff");
});
