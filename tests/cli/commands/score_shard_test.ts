/**
 * `akd run --score-shards 3` with `akd score --request R --shard K/3` jobs, as a scheduler runs
 * them: the real CLI in child processes, the three score jobs of each step at once. The run stops
 * (exit 3) at every scoring step, naming its request; resumed after the jobs, it merges their
 * shards and goes on. The finished report equals the unsharded run's, and every round's saved
 * selection inputs (the merged probabilities and features) are byte for byte the unsharded
 * ones. A missing score shard stops the resumed run with exit 2 naming the file, and a job given
 * another N is exit 2. The experiment: coreset (whose saved inputs hold the features) and
 * pcoreset, an MLP student and a hold-out MLP teacher on a small IDX dataset whose 640 images in
 * play span five scoring batches of 128, so each shard holds rows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../../../engine/files.ts";
import { oneTestBackend } from "../../gpu.ts";
import { withTempDir } from "../../temp_dir.ts";
import { akd, type CliResult } from "../run_cli.ts";
import { timeless, writeTinyIdx } from "./tiny_run.ts";

const SHARDS = 3;

/** Relative paths of the files under `dir` named `name`. */
async function filesNamed(dir: string, name: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(join(dir, prefix))) {
    const rel = join(prefix, e.name);
    if (e.isDirectory) found.push(...(await filesNamed(dir, name, rel)));
    else if (e.name === name) found.push(rel);
  }
  return found.sort();
}

const lines = (r: CliResult) => r.stderr.split("\n").filter((l) => l.trim() !== "");

for (const backend of oneTestBackend()) {
  Deno.test({
    name: `run --score-shards ${SHARDS} with akd score jobs: the unsharded report and ` +
      `selection inputs, bitwise; a missing score shard is exit 2 [${backend}]`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await withTempDir(async (dir) => {
        const data = join(dir, "data");
        await writeTinyIdx(data, 680, 100);
        const config = join(dir, "c.json");
        await Deno.writeTextFile(
          config,
          JSON.stringify({
            dataset: `idx:${data}`,
            teacher: "holdout-classifier",
            teacherArch: "mlp",
            teacherHoldout: 40,
            teacherSteps: 20,
            student: "mlp",
            imageSize: 8,
            strategies: ["coreset", "pcoreset"],
            rounds: 2,
            budget: 4,
            seeds: [1],
            repeat: 4,
            batchSize: 16,
            lr: 0.003,
          }),
        );
        const env = { AKD_CACHE: join(dir, "cache") };
        const cli = (...args: string[]) => akd([...args, "--backend", backend, "--quiet"], env);
        const run = (out: string, ...more: string[]) =>
          cli("run", "--config", config, "--out", join(dir, out), ...more);

        const ref = await run("ref");
        assert.equal(ref.code, 0, ref.stderr);

        // Each step: the run stops naming its request; the three jobs score it at once.
        const score = (request: string, k: number) =>
          cli("score", "--request", request, "--shard", `${k}/${SHARDS}`);
        let r = await run("sharded", "--score-shards", String(SHARDS));
        let steps = 0;
        let missingChecked = false;
        while (r.code === 3) {
          assert.equal(lines(r).length, 1, r.stderr);
          const request = /--request (\S+) --shard/.exec(r.stderr)?.[1];
          assert.ok(request && (await exists(request)), r.stderr);
          steps++;
          if (steps === 1) {
            const wrong = await cli("score", "--request", request, "--shard", "1/2");
            assert.equal(wrong.code, 2, wrong.stderr);
            assert.match(wrong.stderr, /^akd: --shard 1\/2: the run asked for 3 shards/);
          }
          const ks = missingChecked ? [1, 2, 3] : [1, 3];
          const jobs = await Promise.all(ks.map((k) => score(request, k)));
          jobs.forEach((j, i) => assert.equal(j.code, 0, `shard ${ks[i]}: ${j.stderr}`));
          const resume = () => run("sharded", "--resume", "--score-shards", String(SHARDS));
          if (!missingChecked) {
            const missing = await resume();
            assert.equal(missing.code, 2, missing.stderr);
            assert.equal(lines(missing).length, 1, missing.stderr);
            assert.match(
              missing.stderr,
              /^akd: \S+\.2-of-3\.safetensors: missing: shard 2\/3 of scores of /,
            );
            const two = await score(request, 2);
            assert.equal(two.code, 0, two.stderr);
            missingChecked = true;
          }
          r = await resume();
        }
        assert.equal(r.code, 0, r.stderr);
        // Round 0's scores are shared by both arms; round 1 of each arm is scored; round 2
        // (the last) selects nothing.
        assert.equal(steps, 3);

        assert.deepEqual(await timeless(join(dir, "sharded")), await timeless(join(dir, "ref")));
        const saved = await filesNamed(join(dir, "ref"), "selection.safetensors");
        assert.equal(saved.length, 4, "two arms × rounds 0 and 1");
        assert.deepEqual(await filesNamed(join(dir, "sharded"), "selection.safetensors"), saved);
        for (const f of saved) {
          assert.deepEqual(
            await Deno.readFile(join(dir, "sharded", f)),
            await Deno.readFile(join(dir, "ref", f)),
            `${f}: bytes`,
          );
        }
        // Consumed: no shards left, and the kept scores and requests went with the students.
        assert.deepEqual([...Deno.readDirSync(join(dir, "cache", "shards"))], []);
        for (const name of ["scores.safetensors", "score-request.safetensors"]) {
          assert.deepEqual(await filesNamed(join(dir, "sharded"), name), [], name);
        }
      });
    },
  });
}
