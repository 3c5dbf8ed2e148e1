// Expected values were produced by Python 3's html.unescape.
import assert from "node:assert/strict";
import { htmlUnescape } from "../../../models/clip/html_unescape.ts";

Deno.test("htmlUnescape decodes one level of named references, like Python", () => {
  assert.equal(htmlUnescape("fish &amp; chips"), "fish & chips");
  assert.equal(htmlUnescape("&amp;lt;"), "&lt;");
  assert.equal(
    htmlUnescape("&lt;b&gt; &quot;q&quot; &apos;a&apos; x&nbsp;y"),
    "<b> \"q\" 'a' x\u00a0y",
  );
  assert.equal(htmlUnescape("&lang;&rang;"), "\u27e8\u27e9");
  assert.equal(htmlUnescape("&notinE;"), "\u22f9\u0338");
});

Deno.test("htmlUnescape: legacy names without ';' and longest-prefix matching", () => {
  assert.equal(htmlUnescape("&copy2024"), "\u00a92024");
  assert.equal(htmlUnescape("&lta"), "<a");
  assert.equal(htmlUnescape("&copysr;"), "\u2117");
  assert.equal(htmlUnescape("&ampx;"), "&x;");
  // Not a legacy name, and no table entry may come from Object.prototype.
  assert.equal(htmlUnescape("&hellip &constructor;"), "&hellip &constructor;");
});

Deno.test("htmlUnescape: numeric references with HTML5's replacements", () => {
  assert.equal(
    htmlUnescape("&#0;&#13;&#x80;&#x81;&#127;&#xD800;&#1114112;&#65535;&#65;"),
    "\ufffd\r\u20ac\x81\ufffd\ufffdA",
  );
  assert.equal(htmlUnescape("&#39&#x27 &;&#;&#x;"), "'' &;&#;&#x;");
  assert.equal(htmlUnescape("&#x1F600;&#99999999999999999999;"), "\u{1F600}\ufffd");
});

/** Python's html.unescape on every html5 name (make_html_entities_fixture.py writes the file). */
const html5: { count: number; rows: [string, string, string][] } = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/html5_entities.json", import.meta.url)),
);

Deno.test("htmlUnescape: all of Python's html5 names, alone and followed by text", () => {
  assert.equal(html5.rows.length, 2231);
  assert.equal(html5.count, html5.rows.length);
  const wrong: string[] = [];
  for (const [name, alone, followed] of html5.rows) {
    if (htmlUnescape("&" + name) !== alone) wrong.push(`&${name}`);
    if (htmlUnescape("&" + name + "z") !== followed) wrong.push(`&${name}z`);
  }
  assert.deepEqual(wrong, []);
});
