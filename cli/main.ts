/**
 * `akd`: the activekd command line (docs/cli.md is the contract). Exit codes: 0 success, 1 runtime
 * failure, 2 bad input with a one-line message naming the flag or file, 3 a run stopped for
 * sharded scores (`run --score-shards`).
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { InputError } from "../engine/errors.ts";
import { closeEngine } from "../engine/context.ts";
import { debugEnabled } from "../al/env.ts";
import { ScoresNeeded } from "../al/loop/scores.ts";
import { infoCommand } from "./commands/info.ts";
import { tokenizeCommand } from "./commands/tokenize.ts";
import { dataCommand } from "./commands/data.ts";
import { benchCommand } from "./commands/bench.ts";
import { selectCommand } from "./commands/select.ts";
import { forwardCommand } from "./commands/forward.ts";
import { runCommand } from "./commands/run.ts";
import { planCommand } from "./commands/plan.ts";
import { demoCommand } from "./commands/demo.ts";
import { teacherCommand } from "./commands/teacher.ts";
import { scoreCommand } from "./commands/score.ts";

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
    planCommand(),
    runCommand(),
    scoreCommand(),
    demoCommand(),
    benchCommand(),
  ];
  for (const c of commands) {
    p.addCommand(c.exitOverride() as unknown as Command);
  }
  return p;
}

/**
 * Commander answers `--help` before it looks the command up, so `akd plann --help` would print
 * the main help and exit 0 (and `akd help plann` prints it too). An unknown command is passed
 * on alone instead, reaching commander's unknown-command error: exit 2, naming it, with the
 * nearest command suggested.
 */
function unknownCommandAlone(p: Command, args: string[]): string[] {
  const operands = args.filter((a) => !a.startsWith("-"));
  const name = operands[0] === "help" ? operands[1] : operands[0];
  const known = name === undefined ||
    p.commands.some((c) => c.name() === name || c.aliases().includes(name));
  return known ? args : [name];
}

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let debug = false;
  try {
    debug = debugEnabled();
    const p = program();
    await p.parseAsync(unknownCommandAlone(p, args), { from: "user" });
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
    if (e instanceof ScoresNeeded) {
      console.error(`akd: ${e.message}`);
      return 3;
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
