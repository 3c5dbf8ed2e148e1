import assert from "node:assert/strict";
import { join } from "node:path";
import { reportCsv } from "../../../al/report/csv.ts";
import { buildReport, sortResults, writeReport } from "../../../al/report/report.ts";
import { curveSvg, niceTicks } from "../../../al/report/svg.ts";
import { fakeResults, row } from "./fake_results.ts";

Deno.test("report: results are ordered by config strategy order, seed, round", () => {
  const shuffled = fakeResults().reverse();
  const sorted = sortResults(shuffled, ["random", "pcoreset"]);
  assert.deepEqual(
    sorted.slice(0, 4).map((r) => [r.strategy, r.seed, r.round]),
    [["random", 1, 0], ["random", 1, 1], ["random", 1, 2], ["random", 2, 0]],
  );
  assert.equal(sorted[6].strategy, "pcoreset");
});

Deno.test("report: CSV has one row per result and quotes what needs it", () => {
  const csv = reportCsv([...fakeResults(), { ...row('a,"b"', 3, 0, 0.25) }]);
  const lines = csv.trimEnd().split("\n");
  assert.equal(lines.length, 1 + 13);
  assert.equal(
    lines[0],
    "strategy,seed,round,labeled,pool,accuracy,accuracy_ce,accuracy_kd,teacher_accuracy," +
      "coverage_radius,coverage_radius_after,selected,seconds_train,seconds_select",
  );
  assert.equal(lines[1], "random,1,0,10,500,0.5,0.49,0.51,0.8,0.5,0.4,0 101,1.5,0.25");
  assert.equal(lines[3], "random,1,2,30,480,0.7,0.69,0.71,0.8,,,,1.5,0.25");
  assert.ok(lines[13].startsWith('"a,""b""",3,0,'));
});

Deno.test("report: curve.svg has a line and a band per strategy, balanced tags", () => {
  const svg = curveSvg(fakeResults(), "Fashion-MNIST <demo>");
  assert.ok(svg.startsWith("<svg xmlns="));
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
  assert.equal((svg.match(/<polygon /g) ?? []).length, 2);
  assert.equal((svg.match(/<circle /g) ?? []).length, 6);
  assert.ok(svg.includes("Fashion-MNIST &lt;demo&gt;"));
  assert.ok(svg.includes(">pcoreset</text>"));
  const opened = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
  const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
  assert.equal(opened, closed);
  // One seed: no band.
  const one = curveSvg(fakeResults().filter((r) => r.seed === 1), "t");
  assert.equal((one.match(/<polygon /g) ?? []).length, 0);
});

Deno.test("report: nice ticks", () => {
  assert.deepEqual(niceTicks(0, 100), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(10, 40), [10, 15, 20, 25, 30, 35, 40]);
  assert.deepEqual(niceTicks(42.3, 67.9), [45, 50, 55, 60, 65]);
});

Deno.test("report: writeReport writes the three files and no temporaries", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const report = buildReport({
      config: { rounds: 2 },
      environment: { deno: "2", backend: "dawn", adapter: "x", os: "linux" },
      teacher: { spec: "logits:x", key: "k", accuracy: 0.8, description: "d" },
      data: { dataset: "d", classes: ["a", "b", "c"], train: 500, test: 100, held_out: 0 },
      results: fakeResults(),
      strategies: ["pcoreset", "random"],
    });
    assert.equal(report.results[0].strategy, "pcoreset");
    assert.equal(report.summary.length, 2);
    await writeReport(dir, report, "t");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["curve.svg", "report.csv", "report.json"]);
    const back = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
    assert.deepEqual(back, JSON.parse(JSON.stringify(report)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
