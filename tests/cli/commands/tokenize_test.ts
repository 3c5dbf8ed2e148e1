import assert from "node:assert/strict";
import { InputError } from "../../../engine/errors.ts";
import { tokenizeCommand } from "../../../cli/commands/tokenize.ts";
import { fixture } from "../../fixtures.ts";

/** Runs `tokenize ARGS...` and returns what it printed. */
async function run(...args: string[]): Promise<string> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => printed.push(parts.join(" "));
  try {
    await tokenizeCommand().exitOverride().parseAsync(args, { from: "user" });
  } finally {
    console.log = log;
  }
  return printed.join("\n");
}

Deno.test("tokenize prints one row of ids per text", async () => {
  const vocab = fixture("clip", "bpe_simple_vocab_16e6.txt.gz");
  const rows = JSON.parse(await run("--vocab", vocab, "a photo of a cat", "a cat"));
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0].slice(0, 8), [49406, 320, 1125, 539, 320, 2368, 49407, 0]);
  assert.equal(rows[1].length, 77);
  const short = JSON.parse(
    await run("--vocab", vocab, "--context-length", "4", "--truncate", "a photo of a cat"),
  );
  assert.deepEqual(short, [[49406, 320, 1125, 49407]]);
});

Deno.test("tokenize: bad input is an InputError", async () => {
  const vocab = fixture("clip", "bpe_simple_vocab_16e6.txt.gz");
  await assert.rejects(run("--vocab", vocab, "--context-length", "4", "a photo of a cat"), {
    name: "InputError",
    message: /too long for context length 4/,
  });
  await assert.rejects(run("--vocab", vocab, "--context-length", "0", "x"), /--context-length/);
  await assert.rejects(run("--vocab", vocab, "--context-length", "7x", "x"), InputError);
  await assert.rejects(run("--vocab", "/nonexistent/vocab.gz", "x"), InputError);
});
