/**
 * SIGKILL at 20 seeded random moments of a whole `akd run` (issue 14, "Faults"), each followed by
 * `akd run --resume` to completion: every resumed report.json must equal the uninterrupted run's
 * (wall times aside). The run is the tiny experiment (fault_run.ts: MLP student, random and
 * pcoreset × 4 rounds) with a holdout-classifier MLP teacher trained by the run itself (its own
 * AKD_CACHE per kill), so the teacher is a phase too.
 *
 * 14 kills are real: the real CLI (cli/main.ts) in a child process, SIGKILLed after a seeded
 * delay counted from config.json's appearance; one delay drawn uniformly in each of 14 equal
 * slices of the time the uninterrupted run took from there, so they span the whole run (teacher,
 * training, evaluation, scoring, selection); a run that finishes first is repeated at half the
 * delay (killRun). The writes take milliseconds of those seconds and are
 * rarely hit, so 6 kills are inside one: fault_kill_driver.ts runs the same experiment and, at a
 * seeded state.json or report write, leaves a seeded part of the bytes in a temporary file and
 * SIGKILLs itself. Each kill's phase, read from the child's progress lines and the files it left,
 * is logged; the test asserts the kills hit the teacher, training, checkpoint and report writes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { roundDir, STATE_FILE, STUDENT_FILE } from "../../../al/loop/checkpoint.ts";
import { Rng } from "../../../engine/rng.ts";
import { exists } from "../../../engine/files.ts";
import { oneTestBackend } from "../../gpu.ts";
import { tempFiles, timeless, tinyConfig, withDir } from "./fault_run.ts";

const WALL_CLOCK_KILLS = 14;
const WRITE_KILLS = 6;
const MAIN = new URL("../../../cli/main.ts", import.meta.url).pathname;
const DRIVER = new URL("./fault_kill_driver.ts", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawn(script: string, args: string[], cache: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env: { AKD_CACHE: cache, XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

const lines = (o: Deno.CommandOutput) =>
  new TextDecoder().decode(o.stderr).split("\n").filter((l) => l.trim() !== "");

/** Runs the child to its end; its stderr lines. */
async function complete(child: Deno.ChildProcess, what: string): Promise<string[]> {
  const o = await child.output();
  if (o.code !== 0) throw new Error(`${what}: exit ${o.code}\n${lines(o).join("\n")}`);
  return lines(o);
}

/**
 * Waits for `out`/config.json, then `delay` ms, then SIGKILLs the child (none: it kills itself);
 * its stderr lines, or null when the child finished first (a wall-clock kill, only).
 */
async function killAfter(child: Deno.ChildProcess, out: string, delay?: number) {
  let ended = false;
  const output = child.output().finally(() => (ended = true));
  if (delay !== undefined) {
    const started = join(out, "config.json");
    while (!(await exists(started)) && !ended) await sleep(2);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([output, new Promise((r) => (timer = setTimeout(r, delay)))]);
    clearTimeout(timer);
    if (!ended) child.kill("SIGKILL");
  }
  const o = await output;
  if (o.signal === "SIGKILL") return lines(o);
  if (delay !== undefined && o.code === 0) return null;
  throw new Error(`ended (exit ${o.code}) before its kill\n${lines(o).join("\n")}`);
}

/**
 * A wall-clock kill of a fresh run, `delay` ms after its config.json. A run can be faster than
 * the uninterrupted one the delays were drawn from (that one compiled the shaders on a cold
 * cache): when the run finishes first, it is repeated in a fresh folder at half the delay.
 */
async function killRun(
  start: (out: string, cache: string) => Deno.ChildProcess,
  base: string,
  delay: number,
) {
  for (let attempt = 0; attempt < 6; attempt++, delay = Math.floor(delay / 2)) {
    const [out, cache] = [`${base}-${attempt}`, `${base}-cache-${attempt}`];
    const stderr = await killAfter(start(out, cache), out, delay);
    if (stderr) return { out, cache, delay, stderr };
    console.log(`  the run finished within ${delay} ms; again at half the delay`);
  }
  throw new Error(`${base}: every run finished before its kill, the last at ${delay * 2} ms`);
}

/**
 * Where a kill landed, from the last progress line and the files left in `out`. A progress line
 * is printed at a phase's first step and at its end (TerminalProgress without a terminal).
 */
async function phaseOf(last: string, out: string, rounds: number, strategies: string[]) {
  const temps = await tempFiles(out);
  if (temps.length) return `write of ${temps.map((t) => t.split(".").slice(1, 3).join("."))}`;
  const has = (dir: string, f: string) => exists(join(dir, f));
  if (/^idx:|^train holdout teacher|^teacher /.test(last)) return "teacher";
  if (/^train seed .*: (\d+)\/\d+ [\d-]/.test(last)) return "training";
  if (/^(train|test) seed /.test(last)) return "evaluation";
  if (/^score seed .* ETA/.test(last)) return "scoring";
  if (/^score seed /.test(last)) return "selection";
  const m = last.match(/^seed (\d+) (?:(\S+) )?round (\d+): (\d+ labeled|selected)/);
  if (!m) return `unknown (after "${last}")`;
  const [seed, strategy, round] = [Number(m[1]), m[2], Number(m[3])];
  const dir = roundDir(out, seed, strategy, round);
  if (m[4] === "selected") return (await has(dir, STATE_FILE)) ? "training" : "checkpoint write";
  if (!(await has(dir, STUDENT_FILE)) || !(await has(dir, STATE_FILE)) && round === rounds) {
    return "checkpoint write";
  }
  if (round < rounds) return strategy ? "scoring" : "checkpoint write or scoring";
  return strategy === strategies.at(-1) ? "report write" : "selection";
}

// One backend: what is tested is the loop's checkpoints and resume, and the 20 kills take
// minutes. The built-in backend when it is among those tested (the faster one on llvmpipe).
for (const backend of oneTestBackend()) {
  Deno.test({
    name: `fault: SIGKILL at ${
      WALL_CLOCK_KILLS + WRITE_KILLS
    } seeded moments, then --resume, gives the uninterrupted report [${backend}]`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await withDir(async (dir) => {
        const tiny = await tinyConfig(dir, join(dir, "ref"));
        const config = {
          ...tiny,
          teacher: "holdout-classifier",
          teacherArch: "mlp" as const,
          teacherHoldout: 40,
          teacherSteps: 50,
        };
        const configFile = join(dir, "c.json");
        await Deno.writeTextFile(configFile, JSON.stringify(config));
        const cli = (out: string, ...more: string[]) => [
          "run",
          "--config",
          configFile,
          "--out",
          out,
          "--backend",
          backend,
          ...more,
        ];

        // The uninterrupted run, and how long it works after writing config.json.
        const child = spawn(MAIN, cli(config.out), join(dir, "cache-ref"));
        let ended = false;
        const done = complete(child, "the uninterrupted run").finally(() => (ended = true));
        while (!(await exists(join(config.out, "config.json"))) && !ended) await sleep(2);
        const t0 = performance.now();
        await done;
        const span = performance.now() - t0;
        const whole = await timeless(config.out);
        console.log(`uninterrupted run: ${Math.round(span)} ms after config.json`);

        const rng = Rng.fromSeed(14).stream("kills");
        // Writes in a run: config.json, the shared round 0 and every strategy round's state.json,
        // report.csv, curve.svg, report.json. A kill inside config.json's leaves no run to resume.
        const writes = 2 + config.strategies.length * (config.rounds + 1) + 3;
        const inWrites = rng.choice(writes - 1, WRITE_KILLS).map((k) => k + 1);
        const kills = [
          ...Array.from({ length: WALL_CLOCK_KILLS }, (_, i) => ({
            delay: Math.round((span * (i + rng.uniform()) * 0.97) / WALL_CLOCK_KILLS),
            write: -1,
          })),
          ...Array.from(inWrites, (write) => ({ delay: 0, write })),
        ];
        const phases = new Set<string>();
        const mismatched: number[] = [];
        for (const [i, kill] of kills.entries()) {
          let [out, cache] = [join(dir, `kill-${i}`), join(dir, `cache-${i}`)];
          let stderr: string[];
          if (kill.write < 0) {
            const start = (o: string, c: string) => spawn(MAIN, cli(o), c);
            ({ out, cache, stderr, delay: kill.delay } = await killRun(start, out, kill.delay));
          } else {
            const fraction = rng.uniform().toFixed(3);
            await Deno.writeTextFile(join(dir, "k.json"), JSON.stringify({ ...config, out }));
            stderr = (await killAfter(
              spawn(DRIVER, [join(dir, "k.json"), backend, String(kill.write), fraction], cache),
              out,
            ))!;
          }
          const phase = await phaseOf(
            stderr.filter((l) => !l.startsWith("killed inside")).at(-1) ?? "",
            out,
            config.rounds,
            config.strategies,
          );
          phases.add(phase.replace(/^write of .*(state|report)\..*$/, "$1 write"));
          await complete(
            spawn(MAIN, ["run", "--resume", "--out", out, "--backend", backend], cache),
            `resume ${i}`,
          );
          const same = JSON.stringify(await timeless(out)) === JSON.stringify(whole);
          if (!same) mismatched.push(i);
          console.log(
            `kill ${i}: ${kill.write < 0 ? `after ${kill.delay} ms` : `in write ${kill.write}`}` +
              ` -> ${phase}; resumed report ${same ? "matches" : "DIFFERS"}`,
          );
        }
        assert.deepEqual(mismatched, [], "resumed reports that differ from the uninterrupted one");
        for (const p of ["teacher", "training", "state write", "report write"]) {
          assert.ok(phases.has(p), `no kill hit ${p}: ${[...phases].join(", ")}`);
        }
      });
    },
  });
}
