/**
 * `akd teacher --shard K/N` and `--merge` as a cluster runs them: the real CLI in child
 * processes, three shard jobs at once on a shared cache, then the merge. The merged cache
 * entries are byte for byte those of an unsharded `akd teacher`, and so is the accuracy; a
 * missing shard, a duplicated shard and a shard of another key each stop the merge with exit 2
 * and one line naming the file, and leave no cache entry for that pass. The teacher is a
 * hold-out MLP classifier on a small IDX dataset whose pool (640 images) and test split (200)
 * span several batches of 64, so every shard holds rows.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { loadSafetensors } from "../../../engine/safetensors.ts";
import { exists } from "../../../engine/files.ts";
import { oneTestBackend } from "../../gpu.ts";
import { withTempDir } from "../../temp_dir.ts";
import { akd, type CliResult } from "../run_cli.ts";
import { writeTinyIdx } from "./tiny_run.ts";

const SHARDS = 3;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
  return r;
}

for (const backend of oneTestBackend()) {
  Deno.test({
    name: `teacher --shard K/N in ${SHARDS} processes, then --merge: the unsharded logits, ` +
      `bitwise; a missing, duplicated or foreign shard is exit 2 [${backend}]`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await withTempDir(async (dir) => {
        const data = join(dir, "data");
        await writeTinyIdx(data, 680, 200);
        const flags = [
          "teacher",
          ...["--dataset", `idx:${data}`, "--teacher", "holdout-classifier"],
          ...["--teacher-arch", "mlp", "--teacher-holdout", "40", "--teacher-steps", "20"],
          ...["--image-size", "8", "--batch-size", "16", "--backend", backend, "--quiet"],
        ];
        const teacher = (cache: string, ...more: string[]) =>
          akd([...flags, ...more], { AKD_CACHE: join(dir, cache) });

        // The unsharded reference, which also trains the hold-out classifier once.
        const ref = JSON.parse(ok(await teacher("ref", "--json"), "unsharded").stdout);
        const refTeachers = join(dir, "ref", "teachers");
        const holdout = [...Deno.readDirSync(refTeachers)]
          .map((e) => e.name).filter((n) => n.startsWith("holdout-"));
        assert.equal(holdout.length, 1);
        // The shard jobs share a cache that already holds the classifier (docs/cli.md).
        const shared = join(dir, "shared", "teachers");
        await Deno.mkdir(shared, { recursive: true });
        await Deno.copyFile(join(refTeachers, holdout[0]), join(shared, holdout[0]));

        // The jobs read the same settings from a run config, as a cluster script would.
        const config = join(dir, "run.json");
        await Deno.writeTextFile(
          config,
          JSON.stringify({
            dataset: `idx:${data}`,
            teacher: "holdout-classifier",
            teacherArch: "mlp",
            teacherHoldout: 40,
            teacherSteps: 20,
            imageSize: 8,
            batchSize: 16,
            strategies: ["pcoreset"],
          }),
        );
        const job = (k: number) =>
          akd(
            [
              ...["teacher", "--config", config, "--shard", `${k}/${SHARDS}`],
              ...["--backend", backend, "--quiet", "--json"],
            ],
            { AKD_CACHE: join(dir, "shared") },
          );
        const jobs = await Promise.all(
          Array.from({ length: SHARDS }, (_, k) => job(k + 1)),
        );
        const files = jobs.flatMap((j, k) =>
          JSON.parse(ok(j, `shard ${k + 1}`).stdout).files as string[]
        );
        assert.equal(files.length, 2 * SHARDS, "a train and a test shard per job");
        // Which pass each file is of, by its row count (train 640, test 200), and its key.
        const passes = new Map<string, { key: string; files: string[] }>();
        for (const f of files.sort()) {
          const { metadata } = await loadSafetensors(f);
          const split = metadata.rows === "640" ? "train" : "test";
          assert.equal(metadata.rows, split === "train" ? "640" : "200");
          const p = passes.get(split) ?? { key: metadata.key, files: [] };
          p.files.push(f);
          passes.set(split, p);
          assert.equal(
            basename(f),
            `${metadata.key}.${metadata.shard.replace("/", "-of-")}.safetensors`,
          );
        }
        const train = passes.get("train")!, test = passes.get("test")!;
        for (const p of [train, test]) {
          for (const f of p.files) {
            const { metadata } = await loadSafetensors(f);
            assert.ok(Number(metadata.end) > Number(metadata.start), `${f} holds rows`);
          }
        }

        // The three bad shard sets, each in a copy of the shared cache.
        const bad = async (name: string, mutate: (shards: string) => Promise<string>) => {
          const cache = join(dir, name);
          await copyDir(shared, join(cache, "teachers"));
          await copyDir(join(dir, "shared", "shards"), join(cache, "shards"));
          const named = await mutate(join(cache, "shards"));
          const r = await teacher(name, "--merge");
          assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.stderr}`);
          const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
          assert.equal(lines.length, 1, `${name}: one line\n${r.stderr}`);
          assert.ok(lines[0].startsWith(`akd: ${named}: `), `${name}: names ${named}\n${lines[0]}`);
          assert.equal(await exists(join(cache, "teachers", `${train.key}.safetensors`)), false);
          return lines[0];
        };
        const inCache = (shards: string, f: string) => join(shards, basename(f));
        assert.match(
          await bad("missing", async (shards) => {
            await Deno.remove(inCache(shards, train.files[1]));
            return inCache(shards, train.files[1]);
          }),
          /: missing: shard 2\/3 of teacher holdout-classifier train logits$/,
        );
        assert.match(
          await bad("duplicated", async (shards) => {
            // A job that ran twice and left its file under another name.
            const again = join(shards, `${train.key}.1-of-3.rerun.safetensors`);
            await Deno.copyFile(inCache(shards, train.files[0]), again);
            return inCache(shards, train.files[0]);
          }),
          /: duplicates shard 1\/3 of .*\.1-of-3\.rerun\.safetensors$/,
        );
        assert.match(
          await bad("foreign", async (shards) => {
            // The test logits' shard 3 copied in under the train logits' name.
            await Deno.copyFile(inCache(shards, test.files[2]), inCache(shards, train.files[2]));
            return inCache(shards, train.files[2]);
          }),
          new RegExp(
            `: a shard of key ${test.key}, not of teacher holdout-classifier train logits`,
          ),
        );

        // The good merge: the unsharded accuracy, the same cache files byte for byte, and the
        // shards consumed.
        const merged = JSON.parse(ok(await teacher("shared", "--merge", "--json"), "merge").stdout);
        assert.deepEqual(merged, ref);
        for (const p of [train, test]) {
          const name = `${p.key}.safetensors`;
          assert.deepEqual(
            await Deno.readFile(join(shared, name)),
            await Deno.readFile(join(refTeachers, name)),
            `${name}: merged bytes`,
          );
        }
        assert.deepEqual([...Deno.readDirSync(join(dir, "shared", "shards"))], []);
      });
    },
  });
}
