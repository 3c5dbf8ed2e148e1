/**
 * `akd run` end to end on a tiny experiment (MLP student, precomputed teacher): the same seed
 * twice gives the same report; a run killed (SIGKILL, in a child process) during round 2 and
 * resumed ends with the uninterrupted run's report.json; skip/force; bad input is an InputError
 * naming the key or file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCommand } from "../../../cli/commands/run.ts";
import { resolveConfig } from "../../../al/config.ts";
import { InputError } from "../../../engine/errors.ts";
import { gpuTest } from "../../gpu.ts";
import { timeless, writeTinyRun } from "./tiny_run.ts";
import { withTempDir as withDir } from "../../temp_dir.ts";

/** Runs `run ARGS...`, returning stdout and stderr. */
async function run(...args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...p: unknown[]) => out.push(p.join(" "));
  console.error = (...p: unknown[]) => err.push(p.join(" "));
  try {
    await runCommand().exitOverride().parseAsync(args, { from: "user" });
  } finally {
    [console.log, console.error] = [log, error];
  }
  return { out: out.join("\n"), err: err.join("\n") };
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** Starts the same `run` in a child process and SIGKILLs it once `marker` exists. */
async function runKilledAt(marker: string, dir: string, args: string[]): Promise<void> {
  const script = join(dir, "child.ts");
  const runTs = new URL("../../../cli/commands/run.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { runCommand } from ${JSON.stringify(runTs)};\n` +
      `await runCommand().parseAsync(Deno.args, { from: "user" });\nDeno.exit(0);\n`,
  );
  const denoJson = new URL("../../../deno.json", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "--config", denoJson, script, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const output = child.output().then((o) => {
    exited = true;
    return o;
  });
  while (!(await exists(marker))) {
    if (exited) {
      const err = new TextDecoder().decode((await output).stderr);
      throw new Error(`the child run ended before ${marker}: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill("SIGKILL");
  await output;
}

gpuTest(
  "run: reproducible, and a run killed in round 2 resumes to the same report",
  async (backend) => {
    await withDir(async (dir) => {
      const common = ["--backend", backend, "--quiet"];
      const config = join(dir, "c.json");
      await Deno.writeTextFile(config, JSON.stringify(await writeTinyRun(dir)));
      const a = await run("--config", config, "--out", join(dir, "a"), ...common);
      assert.match(a.out, /^teacher logits:.*: test accuracy 80\.0%/);
      // Precomputed logits cannot see pixels: cached, whatever the adapter.
      assert.match(a.out, /\nteacher input: cached \(the teacher's logits of the un-augmented/);
      assert.match(a.out, /\nround\s+labeled\s+random\s+pcoreset\n0\s+4\s/);
      assert.match(a.out, /\nΔ random\s+[+-]\d/);
      const whole = await timeless(join(dir, "a")) as { results: { selected: number[] }[] };
      assert.equal(whole.results.length, 2 * 4);
      assert.ok(whole.results.some((r) => r.selected.length === 4));

      // Every saved selection replays from its checkpoint to the recorded picks.
      const replay = await run("--replay", "--out", join(dir, "a"), ...common);
      assert.match(replay.out, /^replayed 6 selections from .*: all identical$/);

      // The same seed again, in another folder: the same indices and accuracies.
      await run("--config", config, "--out", join(dir, "b"), ...common);
      assert.deepEqual(await timeless(join(dir, "b")), whole);

      // Killed once round 1 of the first strategy is checkpointed (so during round 2).
      const cut = join(dir, "cut");
      const marker = join(cut, "checkpoints", "seed-1", "random", "round-1", "state.json");
      await runKilledAt(marker, dir, ["--config", config, "--out", cut, ...common]);
      assert.ok(!(await exists(join(cut, "report.json"))), "the child finished before the kill");
      await assert.rejects(
        run("--config", config, "--out", cut, ...common),
        (e) => e instanceof InputError && /unfinished run: --resume/.test(e.message),
      );
      await run("--resume", "--out", cut, ...common);
      assert.deepEqual(await timeless(cut), whole);

      // Finished: skipped without --force; another value is refused, naming the key.
      const again = await run("--config", config, "--out", join(dir, "a"), "--backend", backend);
      assert.match(again.err, /has finished already/);
      await assert.rejects(
        run("--config", config, "--out", join(dir, "a"), "--rounds", "2", ...common),
        (e) => e instanceof InputError && /another "rounds"/.test(e.message),
      );
    });
  },
  { oneBackend: true },
);

gpuTest(
  "run: --teacher-input augmented and cached, with a model teacher; the report and terminal say which",
  async (backend) => {
    await withDir(async (dir) => {
      const tiny = await writeTinyRun(dir);
      const config = join(dir, "c.json");
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          ...tiny,
          teacher: "holdout-classifier",
          teacherArch: "mlp",
          teacherWidth: 32,
          teacherHoldout: 40,
          teacherSteps: 20,
          strategies: ["random"],
          rounds: 1,
        }),
      );
      const reports: Record<string, { teacher: { input: string; key: string } }> = {};
      // The hold-out classifier's checkpoint and logits go to this test's own cache.
      const cacheBefore = Deno.env.get("AKD_CACHE");
      Deno.env.set("AKD_CACHE", join(dir, "cache"));
      try {
        for (const input of ["augmented", "cached"]) {
          const out = join(dir, input);
          const r = await run(
            "--config",
            config,
            "--out",
            out,
            "--teacher-input",
            input,
            "--backend",
            backend,
            "--quiet",
          );
          assert.ok(r.out.includes(`\nteacher input: ${input} (`), r.out);
          reports[input] = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
          assert.equal(reports[input].teacher.input, input);
        }
      } finally {
        if (cacheBefore === undefined) Deno.env.delete("AKD_CACHE");
        else Deno.env.set("AKD_CACHE", cacheBefore);
      }
      // The modes have their own keys: a checkpoint is never resumed in the other mode.
      assert.notEqual(reports.augmented.teacher.key, reports.cached.teacher.key);
    });
  },
  { oneBackend: true },
);

Deno.test({
  name: "run: a config typo or a corrupt checkpoint is an InputError naming it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDir(async (dir) => {
      const tiny = await writeTinyRun(dir);
      const config = join(dir, "c.json");
      await Deno.writeTextFile(config, JSON.stringify({ ...tiny, rouns: 3 }));
      await assert.rejects(
        run("--config", config, "--quiet"),
        (e) =>
          e instanceof InputError &&
          e.message === `${config}: unknown key "rouns" (did you mean "rounds"?)`,
      );
      await assert.rejects(
        run("--rounds", "x", "--quiet"),
        (e) => e instanceof InputError && /^--rounds: expected /.test(e.message),
      );
      // Precomputed logits have no model for the student's crops; nothing is written.
      const refused = join(dir, "refused");
      await Deno.writeTextFile(config, JSON.stringify({ ...tiny, out: refused }));
      await assert.rejects(
        run("--config", config, "--teacher-input", "augmented", "--quiet"),
        (e) =>
          e instanceof InputError &&
          e.message.startsWith(
            `--teacher-input augmented: teacher ${tiny.teacher} is precomputed logits`,
          ),
      );
      assert.ok(!(await exists(refused)), "a refused run wrote its folder");
      // An unfinished run whose round-0 checkpoint is damaged.
      const out = join(dir, "out");
      const state = join(out, "checkpoints", "seed-1", "random", "round-0", "state.json");
      await Deno.mkdir(join(state, ".."), { recursive: true });
      await Deno.writeTextFile(state, '{"version": 1, "seed": 1, "round"');
      await Deno.writeTextFile(config, JSON.stringify({ ...tiny, out }));
      await assert.rejects(
        run("--config", config, "--quiet"),
        (e) => e instanceof InputError && /unfinished run/.test(e.message),
      );
      await Deno.writeTextFile(
        join(out, "config.json"),
        JSON.stringify(resolveConfig({ ...tiny, out })),
      );
      await assert.rejects(
        run("--resume", "--config", config, "--quiet"),
        (e) => e instanceof InputError && e.message.startsWith(`${state}: corrupt checkpoint`),
      );
    });
  },
});
