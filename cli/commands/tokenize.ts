/**
 * `akd tokenize --vocab V [--context-length 77] [--truncate] TEXT...`: CLIP BPE tokenisation.
 * Prints one JSON array with one row of `context-length` ids per text (start and end tokens
 * included, zero padded), as `clip.tokenize` returns them.
 */
import { Command } from "@commander-js/extra-typings";
import { intArg } from "../common.ts";
import { ClipTokenizer } from "../../models/clip/tokenizer.ts";

export function tokenizeCommand() {
  return new Command("tokenize")
    .description("CLIP BPE tokenisation: prints one JSON array of token ids per text")
    .requiredOption(
      "--vocab <path>",
      "bpe_simple_vocab_16e6.txt.gz, or a folder with vocab.json and merges.txt",
    )
    .option(
      "--context-length <n>",
      "ids per row, start/end tokens and zero padding included",
      intArg("--context-length", 1),
      77,
    )
    .option("--truncate", "cut texts that do not fit (the row still ends with the end token)")
    .argument("<text...>", "texts to tokenise")
    .action(async (texts, options) => {
      const tokenizer = await ClipTokenizer.load(options.vocab);
      const width = options.contextLength;
      const rows = tokenizer.tokenize(texts, width, options.truncate ?? false);
      const perText = texts.map((_, i) => Array.from(rows.subarray(i * width, (i + 1) * width)));
      console.log(JSON.stringify(perText));
    });
}
