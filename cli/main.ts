/**
 * `akd`: the activekd command line (CLI.md is the contract). Exit codes: 0 success, 1 runtime
 * failure, 2 bad input with a one-line message naming the flag or file.
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { InputError } from "../engine/errors.ts";
import { closeEngine } from "../engine/context.ts";
import { debugEnabled } from "../al/env.ts";
import { infoCommand } from "./commands/info.ts";
import { tokenizeCommand } from "./commands/tokenize.ts";
import { dataCommand } from "./commands/data.ts";
import { benchCommand } from "./commands/bench.ts";
import { selectCommand } from "./commands/select.ts";
import { forwardCommand } from "./commands/forward.ts";
import { runCommand } from "./commands/run.ts";
import { demoCommand } from "./commands/demo.ts";
import { teacherCommand } from "./commands/teacher.ts";

export function program(): Command {
  const p = new Command("akd")
    .description("activekd: ActiveKD with PCoreSet on WebGPU")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  const commands = [
    infoCommand(),
    tokenizeCommand(),
    dataCommand(),
    forwardCommand(),
    selectCommand(),
    teacherCommand(),
    runCommand(),
    demoCommand(),
    benchCommand(),
  ];
  for (const c of commands) {
    p.addCommand(c.exitOverride() as unknown as Command);
  }
  return p;
}

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let debug = false;
  try {
    debug = debugEnabled();
    await program().parseAsync(args, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InputError) {
      console.error(`akd: ${e.message}`);
      return 2;
    }
    console.error(`akd: ${e instanceof Error ? e.message : String(e)}`);
    if (debug && e instanceof Error) console.error(e.stack);
    return 1;
  } finally {
    closeEngine();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
