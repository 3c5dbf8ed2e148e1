// Case E: tokens.json (made with OpenAI CLIP's clip.tokenize) and the real vocabulary. Ids must
// match exactly; extra expected ids below come from the reference SimpleTokenizer.encode.
import assert from "node:assert/strict";
import { InputError } from "../../../engine/errors.ts";
import { ClipTokenizer } from "../../../models/clip/tokenizer.ts";
import { fixture } from "../../fixtures.ts";

interface TokenCase {
  text: string;
  ids: number[];
  truncated: boolean;
  num_bpe_tokens: number;
}

const CONTEXT = 77;

let loaded: Promise<ClipTokenizer> | undefined;
function tokenizer(): Promise<ClipTokenizer> {
  loaded ??= ClipTokenizer.load(fixture("clip", "bpe_simple_vocab_16e6.txt.gz"));
  return loaded;
}

function cases(): TokenCase[] {
  return JSON.parse(Deno.readTextFileSync(fixture("tokenizer", "tokens.json")));
}

Deno.test({
  name: "tokenize reproduces clip.tokenize on all 41 fixture texts",
  fn: async () => {
    const tok = await tokenizer();
    const all = cases();
    assert.equal(all.length, 41);
    assert.equal(tok.startOfText, 49406);
    assert.equal(tok.endOfText, 49407);
    for (const c of all) {
      assert.deepEqual(Array.from(tok.tokenize([c.text], CONTEXT, c.truncated)), c.ids, c.text);
      assert.equal(tok.encode(c.text).length, c.num_bpe_tokens, c.text);
    }
    // One batch: rows in order, row-major.
    const batch = tok.tokenize(all.map((c) => c.text), CONTEXT, true);
    assert.equal(batch.length, all.length * CONTEXT);
    assert.deepEqual(Array.from(batch.subarray(5 * CONTEXT, 6 * CONTEXT)), all[5].ids);
  },
});

Deno.test({
  name: "tokenize: too long without truncate is an InputError; truncate keeps EOT last",
  fn: async () => {
    const tok = await tokenizer();
    const long = cases().filter((c) => c.truncated);
    assert.ok(long.length >= 2);
    for (const c of long) {
      assert.throws(() => tok.tokenize([c.text]), InputError);
      assert.throws(() => tok.tokenize(["a photo", c.text], CONTEXT, false), /text 1 .*too long/);
    }
    // Exactly 75 BPE tokens fits without truncation.
    const fits = cases().find((c) => c.num_bpe_tokens === CONTEXT - 2)!;
    assert.equal(tok.tokenize([fits.text])[CONTEXT - 1], tok.endOfText);
    // "a photo of a cat" = 320 1125 539 320 2368.
    assert.deepEqual(Array.from(tok.tokenize(["a photo of a cat"], 4, true)), [
      49406,
      320,
      1125,
      49407,
    ]);
    assert.deepEqual(Array.from(tok.tokenize(["a cat"], 6)), [49406, 320, 2368, 49407, 0, 0]);
    assert.throws(() => tok.tokenize(["a"], 0), InputError);
    assert.throws(() => tok.tokenize(["a"], 7.5), InputError);
  },
});

Deno.test({
  name: "encode matches the reference on special tokens, whitespace and entity edge cases",
  fn: async () => {
    const tok = await tokenizer();
    assert.deepEqual(tok.encode("<|startoftext|>a cat<|EndOfText|>"), [49406, 320, 2368, 49407]);
    // U+0345 matches no alternative of the reference pattern: it separates and is dropped.
    assert.deepEqual(tok.encode("a\u0345b"), [320, 321]);
    assert.deepEqual(tok.encode("x\x1cy\ufeffz \x85 w"), [343, 472, 344, 171, 119, 379, 345, 342]);
    assert.deepEqual(
      tok.encode("&amp;lt;b&amp;gt; &copy2024 &#x1F600; &#128;"),
      [283, 321, 285, 5811, 273, 271, 273, 275, 7334, 6309],
    );
    assert.deepEqual(tok.encode("\u03a3\u0391\u03a3 \u0130"), [
      139,
      225,
      138,
      109,
      139,
      480,
      328,
      16384,
    ]);
    // The BPE cache must not change results on a second pass.
    assert.deepEqual(tok.encode("a cat"), [320, 2368]);
    assert.deepEqual(tok.encode(""), []);
  },
});

/** The reference vocabulary order, written out independently of the loader. */
async function referenceVocab(): Promise<{ tokens: string[]; mergeLines: string[] }> {
  const gz = await Deno.open(fixture("clip", "bpe_simple_vocab_16e6.txt.gz"));
  const stream = gz.readable.pipeThrough(new DecompressionStream("gzip"));
  const mergeLines = (await new Response(stream).text()).split("\n").slice(1, 1 + 48894);
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  const bytes = [...Array(256).keys()];
  const chars = bytes.filter(printable).map((b) => String.fromCharCode(b));
  bytes.filter((b) => !printable(b)).forEach((_, n) => chars.push(String.fromCharCode(256 + n)));
  const tokens = [...chars, ...chars.map((c) => c + "</w>")];
  for (const line of mergeLines) tokens.push(line.split(" ").join(""));
  tokens.push("<|startoftext|>", "<|endoftext|>");
  return { tokens, mergeLines };
}

Deno.test({
  name: "a Hugging Face vocab.json + merges.txt folder gives the same ids as the gz file",
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const { tokens, mergeLines } = await referenceVocab();
      assert.equal(tokens.length, 49408);
      // Reversed key order: ids must come from the values, not from the order in the file.
      const vocab = Object.fromEntries(tokens.map((t, id) => [t, id] as const).reverse());
      await Deno.writeTextFile(`${tmp}/vocab.json`, JSON.stringify(vocab));
      await Deno.writeTextFile(`${tmp}/merges.txt`, `#version: 0.2\n${mergeLines.join("\n")}\n`);
      const hf = await ClipTokenizer.load(tmp);
      const gz = await tokenizer();
      const texts = cases().map((c) => c.text);
      assert.deepEqual(hf.tokenize(texts, CONTEXT, true), gz.tokenize(texts, CONTEXT, true));
      assert.equal(hf.endOfText, 49407);

      // A vocab.json that lacks a token BPE can produce is rejected at load time.
      delete vocab["cat</w>"];
      await Deno.writeTextFile(`${tmp}/vocab.json`, JSON.stringify(vocab));
      await assert.rejects(ClipTokenizer.load(tmp), /vocab\.json: no id for token "cat<\/w>"/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("a bogus vocabulary path is an InputError naming it", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await assert.rejects(ClipTokenizer.load(`${tmp}/missing.txt.gz`), (e) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /missing\.txt\.gz: not found/);
      return true;
    });
    await Deno.writeTextFile(`${tmp}/vocab.txt`, "#version: 0.2\ni n\n");
    await assert.rejects(ClipTokenizer.load(`${tmp}/vocab.txt`), (e) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /^unknown vocabulary format: .*vocab\.txt/);
      return true;
    });
    // A folder without vocab.json, then one with a broken merges.txt.
    await assert.rejects(ClipTokenizer.load(tmp), /vocab\.json: not found/);
    await Deno.writeTextFile(`${tmp}/vocab.json`, "{}");
    await Deno.writeTextFile(`${tmp}/merges.txt`, "#version: 0.2\ni n\nthree parts here\n");
    await assert.rejects(ClipTokenizer.load(tmp), /merges\.txt: line 3: expected a merge/);
    // gzip magic followed by garbage.
    await Deno.writeFile(`${tmp}/bad.gz`, new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    await assert.rejects(ClipTokenizer.load(`${tmp}/bad.gz`), InputError);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
