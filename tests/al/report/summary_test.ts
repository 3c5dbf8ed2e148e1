import assert from "node:assert/strict";
import { curve, mean, std, summarize, summaryTable } from "../../../al/report/summary.ts";
import { fakeResults } from "./fake_results.ts";

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} != ${b}`);

Deno.test("summary: mean and sample std", () => {
  close(mean([1, 2, 3, 4]), 2.5, "mean");
  close(std([1, 2, 3, 4]), Math.sqrt(5 / 3), "std"); // n-1: sum of squares 5 over 3
  assert.equal(std([7]), 0);
  assert.ok(Number.isNaN(mean([])));
});

Deno.test("summary: curve is mean ± std over seeds per round", () => {
  const c = curve(fakeResults(), "pcoreset");
  assert.deepEqual(c.map((p) => p.round), [0, 1, 2]);
  assert.deepEqual(c.map((p) => p.labeled), [10, 20, 30]);
  close(c[1].mean, 0.65, "round-1 mean");
  close(c[1].std, Math.sqrt(0.005), "round-1 std"); // (0.7, 0.6): deviations ±0.05
  close(c[2].mean, 0.7, "round-2 mean");
});

Deno.test("summary: AUC per seed and the paired difference against random", () => {
  const [random, pcoreset] = summarize(fakeResults());
  assert.equal(random.strategy, "random");
  assert.equal(random.vs_random, undefined);
  close(random.auc_per_seed[0], 0.6, "random seed 1");
  close(random.auc_per_seed[1], 0.5, "random seed 2");
  close(pcoreset.auc_per_seed[0], 2 / 3, "pcoreset seed 1");
  close(pcoreset.auc_per_seed[1], 1.6 / 3, "pcoreset seed 2");
  const d = pcoreset.vs_random!;
  close(d.per_seed[0], 2 / 3 - 0.6, "diff seed 1");
  close(d.per_seed[1], 1.6 / 3 - 0.5, "diff seed 2");
  close(d.mean, (2 / 3 - 0.6 + 1.6 / 3 - 0.5) / 2, "mean diff");
  assert.equal(d.wins, 2);
});

Deno.test("summary: the terminal table lists rounds, AUC and Δ random", () => {
  const results = fakeResults();
  const table = summaryTable(results, summarize(results));
  const lines = table.split("\n");
  assert.match(lines[1], /^round\s+labeled\s+random\s+pcoreset$/);
  assert.match(lines[3], /^1\s+20\s+55\.0 ± 7\.1\s+65\.0 ± 7\.1$/);
  assert.match(lines[5], /^AUC\s+55\.0 ± 7\.1\s+60\.0 ± 9\.4$/);
  assert.match(lines[6], /^Δ random\s+\+5\.0 ± 2\.4 \(2\/2\)$/);
});
