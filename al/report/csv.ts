/** `report.csv`: one row per strategy × seed × round, the scalar columns of report.json. */
import type { RoundResult } from "./types.ts";

const COLUMNS = [
  "strategy",
  "seed",
  "round",
  "labeled",
  "pool",
  "accuracy",
  "accuracy_ce",
  "accuracy_kd",
  "teacher_accuracy",
  "coverage_radius",
  "coverage_radius_after",
  "selected",
] as const;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = Array.isArray(v) ? v.join(" ") : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Present only when a `coreset` row has them. */
const FEATURE_COLUMNS = ["feature_coverage_radius", "feature_coverage_radius_after"] as const;

export function reportCsv(results: readonly RoundResult[]): string {
  const phases = [...new Set(results.flatMap((r) => Object.keys(r.seconds)))];
  const columns = results.some((r) => r.feature_coverage_radius !== undefined)
    ? [...COLUMNS, ...FEATURE_COLUMNS]
    : COLUMNS;
  const header = [...columns, ...phases.map((p) => `seconds_${p}`)];
  const rows = results.map((r) => [
    ...columns.map((c) => cell(r[c])),
    ...phases.map((p) => cell(r.seconds[p])),
  ]);
  return [header.join(","), ...rows.map((r) => r.join(","))].join("\n") + "\n";
}
