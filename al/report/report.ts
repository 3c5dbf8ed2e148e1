/**
 * Assembles and writes the three report files of a run: `report.json` (everything),
 * `report.csv` (one row per strategy × seed × round) and `curve.svg`. Results are ordered by the
 * config's strategy order, then seed, then round, whatever order the rounds ran in (so a resumed
 * run writes the same bytes as an uninterrupted one, wall times aside).
 */
import { join } from "node:path";
import { reportCsv } from "./csv.ts";
import { writeFileAtomic } from "../../engine/files.ts";
import { summarize } from "./summary.ts";
import { curveSvg } from "./svg.ts";
import type { DataInfo, Environment, Report, RoundResult, TeacherInfo } from "./types.ts";

export function sortResults(results: readonly RoundResult[], strategies: readonly string[]) {
  const order = (s: string) => {
    const i = strategies.indexOf(s);
    return i < 0 ? strategies.length : i;
  };
  return [...results].sort((a, b) =>
    order(a.strategy) - order(b.strategy) || a.seed - b.seed || a.round - b.round
  );
}

export function buildReport(parts: {
  config: Record<string, unknown>;
  environment: Environment;
  teacher: TeacherInfo;
  data: DataInfo;
  results: readonly RoundResult[];
  strategies: readonly string[];
}): Report {
  const results = sortResults(parts.results, parts.strategies);
  return {
    config: parts.config,
    environment: parts.environment,
    teacher: parts.teacher,
    data: parts.data,
    results,
    summary: summarize(results),
  };
}

export const REPORT_FILES = ["report.json", "report.csv", "curve.svg"] as const;

/**
 * Writes report.csv and curve.svg, then report.json last (its presence marks a finished run),
 * with `write` (tests pass a failing one: a full disk). A failed write names its file.
 */
export async function writeReport(
  dir: string,
  report: Report,
  title: string,
  write = writeFileAtomic,
): Promise<void> {
  const files: [string, () => string][] = [
    ["report.csv", () => reportCsv(report.results)],
    ["curve.svg", () => curveSvg(report.results, title)],
    ["report.json", () => JSON.stringify(report, null, 2) + "\n"],
  ];
  for (const [name, text] of files) {
    const file = join(dir, name);
    try {
      await write(file, text());
    } catch (e) {
      throw new Error(`${file}: cannot write (${(e as Error).message})`, { cause: e });
    }
  }
}
