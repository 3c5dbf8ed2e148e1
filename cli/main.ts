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
type Defined = { exitOverride(): unknown };

/**
 * Each command's module, imported only when the command runs (or for the full help): a command
 * loads its own dependencies alone, which keeps the process small (`akd select` on a large pool
 * is held to 1.5x the pool's size in resident memory, docs/cli.md).
 */
const COMMANDS: Record<string, () => Promise<Defined>> = {
  info: async () => (await import("./commands/info.ts")).infoCommand(),
  tokenize: async () => (await import("./commands/tokenize.ts")).tokenizeCommand(),
  data: async () => (await import("./commands/data.ts")).dataCommand(),
  forward: async () => (await import("./commands/forward.ts")).forwardCommand(),
  select: async () => (await import("./commands/select.ts")).selectCommand(),
  teacher: async () => (await import("./commands/teacher.ts")).teacherCommand(),
  plan: async () => (await import("./commands/plan.ts")).planCommand(),
  run: async () => (await import("./commands/run.ts")).runCommand(),
  score: async () => (await import("./commands/score.ts")).scoreCommand(),
  demo: async () => (await import("./commands/demo.ts")).demoCommand(),
  bench: async () => (await import("./commands/bench.ts")).benchCommand(),
};

/** The program with the commands `names` (default: all, in help order). */
export async function program(names = Object.keys(COMMANDS)): Promise<Command> {
  const p = new Command("akd")
    .description("activekd: ActiveKD with PCoreSet on WebGPU")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const c of await Promise.all(names.map((n) => COMMANDS[n]()))) {
    p.addCommand(c.exitOverride() as unknown as Command);
  }
  return p;
}

/**
 * The command `args` name (after `help`, too), if it is one. Commander answers `--help` before
 * it looks the command up, so `akd plann --help` would print the main help and exit 0 (and
 * `akd help plann` prints it too): an unknown command is passed on alone instead, reaching
 * commander's unknown-command error: exit 2, naming it, with the nearest command suggested.
 */
function parse(args: string[]): { names?: string[]; args: string[] } {
  const operands = args.filter((a) => !a.startsWith("-"));
  const name = operands[0] === "help" ? operands[1] : operands[0];
  if (name === undefined) return { args };
  return Object.hasOwn(COMMANDS, name) ? { names: [name], args } : { args: [name] };
}

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let debug = false;
  try {
    debug = debugEnabled();
    const parsed = parse(args);
    const p = await program(parsed.names);
    await p.parseAsync(parsed.args, { from: "user" });
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
