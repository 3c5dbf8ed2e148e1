/**
 * Learning curves across seeds and the numbers that compare strategies: the area under each
 * curve (mean accuracy over rounds, METHOD.md §4) and its paired per-seed difference against
 * `random` (same seeds, same initial labels, so the pairing removes most seed noise).
 */
import type { RoundResult, StrategySummary } from "./types.ts";

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

export function summarize(results: readonly RoundResult[]): StrategySummary[] {
  const strategies = strategiesOf(results);
  const random = strategies.includes("random") ? aucBySeed(results, "random") : undefined;
  return strategies.map((strategy) => {
    const auc = aucBySeed(results, strategy);
    const values = [...auc.values()];
    const out: StrategySummary = {
      strategy,
      auc_mean: mean(values),
      auc_std: std(values),
      auc_per_seed: values,
    };
    if (random && strategy !== "random") {
      const diffs = [...auc].filter(([s]) => random.has(s)).map(([s, a]) => a - random.get(s)!);
      out.vs_random = {
        mean: mean(diffs),
        std: std(diffs),
        per_seed: diffs,
        wins: diffs.filter((d) => d > 0).length,
      };
    }
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
  if (summary.some((s) => s.vs_random)) {
    rows.push([
      "Δ random",
      "",
      ...summary.map((s) => {
        const d = s.vs_random;
        if (!d) return "";
        const sign = d.mean >= 0 ? "+" : "";
        return `${sign}${pct(d.mean)} ± ${pct(d.std)} (${d.wins}/${d.per_seed.length})`;
      }),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  return [
    "test accuracy (%, mean ± std over seeds); AUC = mean over rounds; " +
    "Δ random = paired per-seed AUC difference (wins/seeds)",
    line(header),
    ...rows.map(line),
  ].join("\n");
}
