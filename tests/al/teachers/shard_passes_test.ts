/**
 * A refitted CLIP teacher's passes in shards (al/shards.ts), in process on the tiny CLIP fixture:
 * CLAP's CLIP features of the train and test images written as three shards each, then merged by
 * the teacher's first round, are byte for byte the features an unsharded teacher caches, and the
 * round's logits are the same. (The CLI path with real processes: tests/cli/commands/
 * teacher_shard_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { clapTeacher } from "../../../al/teachers/clap.ts";
import { LogitsCache } from "../../../al/teachers/cache.ts";
import { silentProgress } from "../../../al/progress.ts";
import { shardFiles, writeShard } from "../../../al/shards.ts";
import { CLIP } from "../../../models/clip/clip.ts";
import { Rng } from "../../../engine/rng.ts";
import { gpuTest } from "../../gpu.ts";
import { loadClipFixture } from "../../models/clip/clip_fixture.ts";
import { fixtureTokenizer, tinyData, tinySet, withTempDir } from "./tiny.ts";

const CLASSES = ["a", "b", "c"];
const DS = { classes: CLASSES, template: "{}" };

gpuTest("clap: CLIP features computed in 3 shards and merged are the unsharded ones", async () => {
  await withTempDir(async (dir) => {
    const train = tinySet(24, 3);
    const test = tinySet(9, 3, 1);
    const data = tinyData(train, test, 3);
    const tokenizer = await fixtureTokenizer(CLASSES);
    const fixture = (await loadClipFixture("clip_rn")).model;
    const clap = async (cache: LogitsCache) =>
      await clapTeacher({
        model: {
          clip: CLIP.fromStateDict(fixture, "clip_rn"),
          tokenizer,
          weightsKey: "clip_rn",
          name: "clip_rn",
        },
        ds: DS,
        data,
        sets: { train, test },
        lag: false,
        cache,
        batch: 4, // 18 train and 9 test rows: 5 and 3 batches, so every shard holds rows
        settings: { lr: 0.01, momentum: 0.9, warmup: 0.1, epochs: 2, batch: 8 },
      });
    const round = async (cache: LogitsCache) => {
      const t = await clap(cache);
      try {
        return await t.forRound(
          0,
          Int32Array.of(0, 1, 2),
          undefined,
          Rng.fromSeed(3),
          silentProgress,
        );
      } finally {
        t.dispose?.();
      }
    };

    const whole = new LogitsCache(join(dir, "whole", "teachers"));
    const expected = await round(whole);

    const sharded = new LogitsCache(join(dir, "sharded", "teachers"));
    const jobs = await clap(sharded);
    const passes = await jobs.passes!(silentProgress);
    try {
      assert.equal(passes.length, 2);
      for (const p of passes) {
        for (let index = 1; index <= 3; index++) {
          await writeShard(p, { index, count: 3 }, silentProgress, sharded.shards);
        }
        assert.equal((await shardFiles(p.key, sharded.shards)).length, 3);
      }
    } finally {
      jobs.dispose?.();
    }
    assert.deepEqual(await round(sharded), expected);
    for (const p of passes) {
      assert.deepEqual(
        await Deno.readFile(sharded.file(p.key)),
        await Deno.readFile(whole.file(p.key)),
      );
      assert.deepEqual(await shardFiles(p.key, sharded.shards), [], "merged shards are removed");
    }
  });
}, { oneBackend: true });
