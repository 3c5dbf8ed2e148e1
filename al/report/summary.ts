/**
 * Learning curves across seeds and the numbers that compare arms: the area under each curve
 * (mean accuracy over rounds, docs/method.md §4), its paired per-seed difference against `random`
 * of the same kind (distilled or plain), and for a distilled arm with a plain twin the KD lift
 * (its paired difference against `<strategy>-no-teacher`). Same seeds, same initial labels, so
 * the pairing removes most seed noise.
 */
import { NO_TEACHER_SUFFIX } from "../arms.ts";
import type { PairedDifference, RoundResult, StrategySummary } from "./types.ts";

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export interface CurvePoint {
  round: number;
  labeled: number;
  mean: number;
  std: number;
  seeds: number;
}

/** Strategies in first-seen order. */
export function strategiesOf(results: readonly RoundResult[]): string[] {
  return [...new Set(results.map((r) => r.strategy))];
}

/** Mean ± std accuracy over seeds, per round, of one strategy. */
export function curve(results: readonly RoundResult[], strategy: string): CurvePoint[] {
  const byRound = new Map<number, RoundResult[]>();
  for (const r of results) {
    if (r.strategy !== strategy) continue;
    const list = byRound.get(r.round) ?? [];
    list.push(r);
    byRound.set(r.round, list);
  }
  return [...byRound.keys()].sort((a, b) => a - b).map((round) => {
    const rows = byRound.get(round)!;
    const acc = rows.map((r) => r.accuracy);
    return {
      round,
      labeled: mean(rows.map((r) => r.labeled)),
      mean: mean(acc),
      std: std(acc),
      seeds: rows.length,
    };
  });
}

/** Per-seed AUC (mean accuracy over the rounds that seed completed), by seed. */
function aucBySeed(results: readonly RoundResult[], strategy: string): Map<number, number> {
  const bySeed = new Map<number, number[]>();
  for (const r of results) {
    if (r.strategy !== strategy) continue;
    const list = bySeed.get(r.seed) ?? [];
    list.push(r.accuracy);
    bySeed.set(r.seed, list);
  }
  return new Map([...bySeed].sort(([a], [b]) => a - b).map(([s, acc]) => [s, mean(acc)]));
}

/** `auc − other` on the seeds both have. */
function paired(auc: Map<number, number>, other: Map<number, number>): PairedDifference {
  const diffs = [...auc].filter(([s]) => other.has(s)).map(([s, a]) => a - other.get(s)!);
  return {
    mean: mean(diffs),
    std: std(diffs),
    per_seed: diffs,
    wins: diffs.filter((d) => d > 0).length,
  };
}

export function summarize(results: readonly RoundResult[]): StrategySummary[] {
  const arms = strategiesOf(results);
  const aucs = new Map(arms.map((a) => [a, aucBySeed(results, a)]));
  return arms.map((arm) => {
    const auc = aucs.get(arm)!;
    const values = [...auc.values()];
    const out: StrategySummary = {
      strategy: arm,
      auc_mean: mean(values),
      auc_std: std(values),
      auc_per_seed: values,
    };
    const random = "random" + (arm.endsWith(NO_TEACHER_SUFFIX) ? NO_TEACHER_SUFFIX : "");
    if (arm !== random && aucs.has(random)) out.vs_random = paired(auc, aucs.get(random)!);
    const plain = aucs.get(arm + NO_TEACHER_SUFFIX);
    if (plain) out.kd_lift = paired(auc, plain);
    return out;
  });
}

const pct = (x: number) => (100 * x).toFixed(1);

/** The terminal table: accuracy per round and strategy (mean ± std, %), then AUC and Δ. */
export function summaryTable(
  results: readonly RoundResult[],
  summary: readonly StrategySummary[],
): string {
  const strategies = summary.map((s) => s.strategy);
  const curves = strategies.map((s) => curve(results, s));
  const rounds = [...new Set(curves.flatMap((c) => c.map((p) => p.round)))].sort((a, b) => a - b);
  const header = ["round", "labeled", ...strategies];
  const rows: string[][] = rounds.map((round) => {
    const points = curves.map((c) => c.find((p) => p.round === round));
    const labeled = points.find((p) => p)!.labeled;
    return [
      String(round),
      String(Math.round(labeled)),
      ...points.map((p) => (p ? `${pct(p.mean)} ± ${pct(p.std)}` : "-")),
    ];
  });
  rows.push(["AUC", "", ...summary.map((s) => `${pct(s.auc_mean)} ± ${pct(s.auc_std)}`)]);
  const diff = (d: PairedDifference | undefined) =>
    d
      ? `${d.mean >= 0 ? "+" : ""}${pct(d.mean)} ± ${pct(d.std)} (${d.wins}/${d.per_seed.length})`
      : "";
  if (summary.some((s) => s.vs_random)) {
    rows.push(["Δ random", "", ...summary.map((s) => diff(s.vs_random))]);
  }
  if (summary.some((s) => s.kd_lift)) {
    rows.push(["KD lift", "", ...summary.map((s) => diff(s.kd_lift))]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  return [
    "test accuracy (%, mean ± std over seeds); AUC = mean over rounds; " +
    "Δ random = paired per-seed AUC difference (wins/seeds)" +
    (summary.some((s) => s.kd_lift)
      ? `; KD lift = paired AUC difference against the same strategy with no teacher`
      : ""),
    line(header),
    ...rows.map(line),
  ].join("\n");
}
