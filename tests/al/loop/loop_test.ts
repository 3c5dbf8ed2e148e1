import assert from "node:assert/strict";
import { join } from "node:path";
import { runLoop } from "../../../al/loop/loop.ts";
import { roundDir } from "../../../al/loop/checkpoint.ts";
import { replaySelections } from "../../../al/loop/replay.ts";
import { silentProgress } from "../../../al/progress.ts";
import type { RunConfig } from "../../../al/config.ts";
import type { Report } from "../../../al/report/types.ts";
import { InputError } from "../../../engine/errors.ts";
import { ENV, fakeConfig, fakeData, FakeLearner, fakeSelect, fakeTeacher } from "./fakes.ts";
import type { RoundTeacher } from "../../../al/ports.ts";
import type { Tensor } from "../../../engine/tensor.ts";
import { withTempDir as withDir } from "../../temp_dir.ts";

function run(config: RunConfig, extra: Partial<Parameters<typeof runLoop>[0]> = {}) {
  const data = fakeData();
  const learner = new FakeLearner(data);
  const outcome = runLoop({
    config,
    data,
    teacher: fakeTeacher(data),
    learner,
    select: fakeSelect,
    environment: ENV,
    ...extra,
  });
  return { outcome, learner };
}

/** report.json without wall times (and the out folder's name). */
async function timeless(out: string): Promise<unknown> {
  const text = await Deno.readTextFile(join(out, "report.json"));
  return JSON.parse(text, (k, v) => (k === "seconds" || k === "out" ? undefined : v));
}

Deno.test("loop: rounds, shared round 0, selections move from pool to labeled", async () => {
  await withDir(async (out) => {
    const { outcome, learner } = run(fakeConfig(out));
    const { report, skipped } = await outcome;
    assert.equal(skipped, false);
    // 2 seeds × (1 shared round 0 + 2 strategies × 3 rounds).
    assert.equal(learner.trained, 2 * (1 + 2 * 3));
    // Round 0 is scored once per seed; rounds 1 and 2 once per strategy (not the last).
    assert.equal(learner.scored, 2 * (1 + 2 * 2));
    assert.equal(report.results.length, 2 * 2 * 4);
    const rows = report.results.filter((r) => r.strategy === "pcoreset" && r.seed === 1);
    assert.deepEqual(rows.map((r) => r.labeled), [4, 8, 12, 16]);
    assert.deepEqual(rows.map((r) => r.pool), [76, 72, 68, 64]);
    assert.deepEqual(rows.map((r) => r.selected.length), [4, 4, 4, 0]);
    assert.equal(rows[3].coverage_radius, null);
    // Round 0 is shared: same accuracy for both strategies of a seed, different picks.
    const random0 = report.results.find((r) => r.strategy === "random" && r.round === 0)!;
    assert.equal(random0.accuracy, rows[0].accuracy);
    assert.notDeepEqual(random0.selected, rows[0].selected);
    // Selections are in-play pool indices, never picked twice, counted per class.
    const data = fakeData();
    const picked = rows.flatMap((r) => r.selected);
    assert.equal(new Set(picked).size, picked.length);
    for (const i of picked) assert.ok(i % 3 !== 2, `held-out image ${i} selected`);
    const counts = rows[0].class_counts;
    assert.equal(counts.reduce((a, b) => a + b, 0), 4);
    rows[0].selected.forEach((i) => assert.ok(counts[data.trainLabels[i]] > 0));
    // Files.
    for (const f of ["config.json", "report.json", "report.csv", "curve.svg"]) {
      await Deno.stat(join(out, f));
    }
    assert.equal(report.teacher.accuracy, 0.8);
    assert.equal(report.teacher.input, "cached");
    assert.equal(learner.withPixels, 0);
    assert.equal(report.data.held_out, 40);
  });
});

Deno.test("loop: an augmented-input teacher's model reaches every distilled training; report.json says so", async () => {
  await withDir(async (out) => {
    const data = fakeData();
    const base = fakeTeacher(data);
    const pixels = {
      input: { size: 8, mean: [0, 0, 0], std: [1, 1, 1] },
      logits: (x: Tensor) => x,
    };
    const teacher: RoundTeacher = {
      ...base,
      input: "augmented",
      forRound: async (...args) => ({ ...(await base.forRound(...args)), pixels }),
    };
    const { outcome, learner } = run(fakeConfig(out, { baselines: ["random"] }), { teacher });
    const { report } = await outcome;
    assert.equal(report.teacher.input, "augmented");
    // Per seed: distilled round 0 + 2 strategies × 3 rounds; plain round 0 + 3 rounds.
    assert.equal(learner.trained, 2 * (7 + 4));
    assert.equal(learner.withPixels, 2 * 7, "plain arms were handed the teacher");
  });
});

Deno.test("loop: the same seed twice gives identical indices and accuracies", async () => {
  await withDir(async (dir) => {
    const a = await run(fakeConfig(join(dir, "a"))).outcome;
    const b = await run(fakeConfig(join(dir, "b"))).outcome;
    const strip = (r: Report) => r.results.map(({ seconds: _, ...rest }) => rest);
    assert.deepEqual(strip(a.report), strip(b.report));
    const c = await run(fakeConfig(join(dir, "c"), { seeds: [3, 2] })).outcome;
    const seed2 = (r: Report) => strip(r).filter((x) => x.seed === 2);
    assert.deepEqual(seed2(c.report), seed2(a.report));
    assert.notDeepEqual(strip(c.report).filter((x) => x.seed === 3), seed2(a.report));
  });
});

Deno.test("loop: killed during round 2 and resumed gives the same report.json", async () => {
  await withDir(async (dir) => {
    const whole = join(dir, "whole");
    await run(fakeConfig(whole)).outcome;
    for (
      const stopAt of [
        roundDir(join(dir, "cut"), 1, "pcoreset", 1),
        roundDir(join(dir, "cut"), 2, undefined, 0),
      ]
    ) {
      const cut = join(dir, "cut");
      await Deno.remove(cut, { recursive: true }).catch(() => {});
      const killed = run(fakeConfig(cut), {
        onCheckpoint: (d) => {
          if (d === stopAt) throw new Error("killed");
        },
      });
      await assert.rejects(killed.outcome, /killed/);
      // A half-written round 2: weights without state.
      const half = roundDir(cut, 1, "pcoreset", 2);
      await Deno.mkdir(half, { recursive: true });
      await Deno.writeTextFile(join(half, "student.safetensors"), "partial");
      await assert.rejects(
        run(fakeConfig(cut)).outcome,
        (e) => e instanceof InputError && /--resume/.test(e.message),
      );
      const resumed = run(fakeConfig(cut), { resume: true });
      await resumed.outcome;
      assert.deepEqual(await timeless(cut), await timeless(whole));
      assert.ok(resumed.learner.trained < 2 * 7, `retrained ${resumed.learner.trained}`);
    }
  });
});

Deno.test("loop: a finished run is skipped unless forced; resume checks the config", async () => {
  await withDir(async (out) => {
    await run(fakeConfig(out)).outcome;
    const again = run(fakeConfig(out));
    assert.equal((await again.outcome).skipped, true);
    assert.equal(again.learner.trained, 0);
    await assert.rejects(
      run(fakeConfig(out, { rounds: 2 })).outcome,
      (e) => e instanceof InputError && /another "rounds"/.test(e.message),
    );
    await assert.rejects(
      run(fakeConfig(out, { budget: 5 }), { resume: true }).outcome,
      (e) =>
        e instanceof InputError && /^--resume: "budget" is 5 but the run .* has 4$/.test(e.message),
    );
    const forced = run(fakeConfig(out, { rounds: 1 }), { force: true });
    const { report, skipped } = await forced.outcome;
    assert.equal(skipped, false);
    assert.equal(Math.max(...report.results.map((r) => r.round)), 1);
  });
});

Deno.test("loop: a corrupt checkpoint is an InputError naming the file", async () => {
  await withDir(async (out) => {
    const stopAt = roundDir(out, 1, "random", 2);
    await assert.rejects(
      run(fakeConfig(out), {
        onCheckpoint: (d) => {
          if (d === stopAt) throw new Error("killed");
        },
      }).outcome,
      /killed/,
    );
    const file = join(roundDir(out, 1, "random", 1), "state.json");
    const state = JSON.parse(await Deno.readTextFile(file));
    state.labeled = "oops";
    await Deno.writeTextFile(file, JSON.stringify(state));
    await assert.rejects(
      run(fakeConfig(out), { resume: true }).outcome,
      (e) =>
        e instanceof InputError && e.message.startsWith(`${file}: corrupt checkpoint ("labeled"`),
    );
    await Deno.writeTextFile(file, "{ not json");
    await assert.rejects(
      run(fakeConfig(out), { resume: true }).outcome,
      (e) => e instanceof InputError && e.message.startsWith(`${file}: corrupt checkpoint (`),
    );
  });
});

Deno.test("replay: every saved selection re-runs to the same picks", async () => {
  await withDir(async (out) => {
    const config = fakeConfig(out);
    await run(config).outcome;
    const data = fakeData();
    const replay = () =>
      replaySelections({
        config,
        data,
        select: fakeSelect,
        progress: silentProgress,
      });
    const ok = await replay();
    assert.equal(ok.checked, 2 * 2 * 3); // seeds × strategies × rounds with a selection
    assert.deepEqual(ok.mismatches, []);
    // A checkpoint whose picks were edited no longer replays.
    const file = join(roundDir(out, 2, "random", 1), "state.json");
    const state = JSON.parse(await Deno.readTextFile(file));
    state.result.selected.reverse();
    await Deno.writeTextFile(file, JSON.stringify(state));
    const bad = await replay();
    assert.equal(bad.mismatches.length, 1);
    assert.match(bad.mismatches[0], /^seed 2 random round 1: recorded \[/);
  });
});

Deno.test("loop: baselines run a strategy again with no teacher, beside its distilled arm", async () => {
  await withDir(async (out) => {
    const data = fakeData();
    const teacher = fakeTeacher(data);
    let teacherRounds = 0;
    const counted: RoundTeacher = {
      ...teacher,
      forRound: (...a: Parameters<RoundTeacher["forRound"]>) => (
        teacherRounds++, teacher.forRound(...a)
      ),
    };
    const { outcome, learner } = run(fakeConfig(out, { baselines: ["random"] }), {
      teacher: counted,
    });
    const { report } = await outcome;
    // 2 seeds × (distilled: 1 shared round 0 + 2 × 3; plain: its own round 0 + 3).
    assert.equal(learner.trained, 2 * (1 + 2 * 3 + 1 + 3));
    assert.equal(teacherRounds, 2 * (1 + 2 * 3), "the plain arm asked the teacher");
    const plain = report.results.filter((r) => r.strategy === "random-no-teacher");
    assert.equal(plain.length, 2 * 4);
    for (const r of plain) {
      assert.equal(r.teacher_accuracy, null);
      assert.equal(r.accuracy_kd, null);
      assert.equal(r.accuracy, r.accuracy_ce);
    }
    // Same random draws: the plain arm labels the same images as the distilled random arm.
    const distilled = report.results.filter((r) => r.strategy === "random");
    assert.deepEqual(plain.map((r) => r.selected), distilled.map((r) => r.selected));
    await Deno.stat(join(roundDir(out, 1, undefined, 0) + "-no-teacher", "state.json"));
    const random = report.summary.find((s) => s.strategy === "random")!;
    assert.ok(random.kd_lift, "no KD lift for random");
    assert.deepEqual(
      random.kd_lift.per_seed,
      random.auc_per_seed.map((a, k) =>
        a - report.summary.find((s) => s.strategy === "random-no-teacher")!.auc_per_seed[k]
      ),
    );
    // The plain arm is compared with nothing distilled: no Δ random of its own kind.
    assert.equal(
      report.summary.find((s) => s.strategy === "random-no-teacher")!.vs_random,
      undefined,
    );
    assert.deepEqual(
      report.summary.map((s) => s.strategy),
      ["random", "pcoreset", "random-no-teacher"],
    );
  });
});

Deno.test("loop: teacher none runs every strategy as plain active learning", async () => {
  await withDir(async (out) => {
    const { outcome } = run(fakeConfig(out, { teacher: "none" }), { teacher: undefined });
    const { report } = await outcome;
    assert.equal(report.teacher.spec, "none");
    assert.equal(report.teacher.accuracy, null);
    assert.equal(report.teacher.input, undefined);
    assert.deepEqual(report.summary.map((s) => s.strategy), ["random", "pcoreset"]);
    for (const r of report.results) assert.equal(r.teacher_accuracy, null);
  });
});

Deno.test("loop: students' weights go once their seed is done, unless keepCheckpoints", async () => {
  for (const keep of [false, true]) {
    await withDir(async (out) => {
      await run(fakeConfig(out, { keepCheckpoints: keep })).outcome;
      const present = (file: string) => Deno.stat(file).then(() => true, () => false);
      for (const seed of [1, 2]) {
        for (const strategy of ["random", "pcoreset"]) {
          for (let r = 1; r <= 3; r++) {
            const dir = roundDir(out, seed, strategy, r);
            const file = join(dir, "student.safetensors");
            assert.equal(await present(file), keep, file);
            // Every selection's inputs stay, for replay.
            if (r < 3) assert.ok(await present(join(dir, "selection.safetensors")));
          }
        }
        const shared = join(roundDir(out, seed, undefined, 0), "student.safetensors");
        assert.equal(await present(shared), keep, shared);
      }
    });
  }
});
