import assert from "node:assert/strict";
import { gpuTest, oneTestBackend } from "../gpu.ts";
import { akd } from "../cli/run_cli.ts";
import { withTempDir } from "../temp_dir.ts";
import { engine } from "../../engine/context.ts";
import { mesaVersion } from "../../engine/mesa.ts";
import {
  ceilingOf,
  type Roofline,
  rooflineKey,
  storedRoofline,
  storeRoofline,
} from "../../bench/ceiling.ts";
import { addCeilings, checkProbe, probeReference, runProbe } from "../../bench/roofline.ts";
import { type Probe, probeData, PROBES, type ProbeSize, WG } from "../../bench/roofline_probes.ts";
import type { BenchRecord } from "../../bench/harness.ts";

/** Odd workgroup counts and iteration counts: every index formula's tail and stride. */
const ODD: ProbeSize[] = [{ workgroups: 3, iters: 5 }, { workgroups: 1, iters: 7 }];

async function checkAtOddSizes(probe: Probe): Promise<void> {
  for (const size of ODD) {
    const data = probeData(probe, size);
    const run = await runProbe(engine().gpu, probe, size, data, 2);
    checkProbe(probe, size, probeReference(probe, size, data, run.out), run.out);
    assert.equal(run.samples.length, 2);
    assert.ok(run.samples[0] > 0, `${probe.name}: a positive time`);
  }
}

for (const probe of PROBES) {
  gpuTest(
    `roofline probe ${probe.name}: every invocation's sum equals the float64 reference at odd sizes`,
    () => checkAtOddSizes(probe),
    probe.needs ? { features: [probe.needs] } : {},
  );
}

Deno.test("roofline probes: the check fails on a wrong sum, and the orders are told apart", () => {
  const size = { workgroups: 3, iters: 5 };
  const byName = new Map(PROBES.map((p) => [p.name, p]));
  const vec4 = byName.get("storage-vec4")!;
  const data = probeData(vec4, size);
  const want = vec4.reference(data, size);
  const right = Float32Array.from(want);
  checkProbe(vec4, size, want, right);
  const wrong = right.slice();
  wrong[WG + 1] += 1;
  assert.throws(() => checkProbe(vec4, size, want, wrong), /storage-vec4.*invocation 65 summed/);
  // A kernel walking another shape's order over the same data would fail the check.
  for (const other of ["lane-rows", "group-rows"]) {
    const theirs = Float32Array.from(byName.get(other)!.reference(data, size));
    assert.throws(() => checkProbe(vec4, size, want, theirs), /invocation \d+ summed/, other);
  }
});

const ROOF: Roofline = {
  backend: "native",
  adapter: "test adapter",
  mesa: "25.0.7",
  measuredAt: "2026-01-01T00:00:00.000Z",
  quick: false,
  alu: 40,
  memory: { shape: "group-rows", gbps: 10 },
  shapes: { "group-rows": 10 },
};

Deno.test("ceilingOf: the larger of the ALU and memory time bounds over the measured time", () => {
  // 4 GFLOP at 40 GFLOP/s = 0.1 s; 0.2 GB at 10 GB/s = 0.02 s: ALU-bound, half the roof in 0.2 s.
  const alu = ceilingOf({ flops: 4e9, bytes: 2e8 }, 0.2, ROOF, "src");
  assert.deepEqual(alu, {
    fraction: 0.5,
    bound: "alu",
    roof: "40.00 GFLOP/s (pure FMA)",
    roofline: "src",
  });
  // 1 GB at 10 GB/s = 0.1 s against 0.4 s measured.
  const memory = ceilingOf({ bytes: 1e9 }, 0.4, ROOF, "src");
  assert.equal(memory.fraction, 0.25);
  assert.equal(memory.bound, "memory");
  assert.equal(memory.roof, "10.00 GB/s (group-rows)");
});

/** Runs `fn` with AKD_CACHE set to a new folder, restoring the variable after. */
async function withCache(fn: (dir: string) => Promise<void>): Promise<void> {
  const before = Deno.env.get("AKD_CACHE");
  await withTempDir(async (dir) => {
    Deno.env.set("AKD_CACHE", dir);
    try {
      await fn(dir);
    } finally {
      if (before === undefined) Deno.env.delete("AKD_CACHE");
      else Deno.env.set("AKD_CACHE", before);
    }
  });
}

Deno.test("roofline cache: a stored roofline is kept in the file; a cached one says so", async () => {
  await withCache(async (dir) => {
    const mine = { ...ROOF, adapter: `stored ${crypto.randomUUID()}` };
    await storeRoofline(mine);
    const file = JSON.parse(await Deno.readTextFile(`${dir}/roofline.json`));
    const key = rooflineKey(mine.backend, mine.adapter, mine.mesa);
    assert.deepEqual(file[key], mine);
    assert.match((await storedRoofline(key))!.source, /^measured in this run/);
    // Another process's entry, written to the file only.
    const theirs = { ...ROOF, adapter: `cached ${crypto.randomUUID()}` };
    const theirKey = rooflineKey(theirs.backend, theirs.adapter, theirs.mesa);
    await Deno.writeTextFile(
      `${dir}/roofline.json`,
      JSON.stringify({ ...file, [theirKey]: theirs }),
    );
    const got = await storedRoofline(theirKey);
    assert.deepEqual(got?.roofline, theirs);
    assert.match(got!.source, /^cached in .*roofline\.json \(measured 2026-01-01/);
    assert.equal(await storedRoofline(rooflineKey("dawn", "absent", null)), undefined);
  });
});

gpuTest(
  "addCeilings: records with counted work get the note from this adapter's roofline",
  async () => {
    await withCache(async (dir) => {
      const gpu = engine().gpu;
      const adapter = gpu.adapter.description || gpu.adapter.device;
      const mesa = (await mesaVersion(gpu.adapter))?.version ?? null;
      const roof = { ...ROOF, backend: gpu.backend, adapter, mesa };
      const key = rooflineKey(gpu.backend, adapter, mesa);
      // As if another process had measured it: in the file, not in this process's memory.
      await Deno.writeTextFile(`${dir}/roofline.json`, JSON.stringify({ [key]: roof }));
      const base = {
        name: "gemm",
        case: "c",
        backend: gpu.backend,
        adapter,
        reference: { name: "r", seconds: 1, throughput: 1 },
        ratio: 1,
      };
      const records: BenchRecord[] = [
        { ...base, ours: { seconds: 0.2, throughput: 20, unit: "GFLOP/s" }, work: { flops: 4e9 } },
        { ...base, ours: { seconds: 1, throughput: 1, unit: "steps/s" }, notes: { loss: 1 } },
      ];
      await addCeilings(records, { quick: true });
      const note = records[0].notes?.ceiling as { fraction: number; roofline: string };
      assert.equal(note.fraction, 0.5);
      assert.match(note.roofline, /^(cached in|measured in this run)/);
      assert.deepEqual(records[1].notes, { loss: 1 }, "no counted work: no ceiling");
    });
  },
);

for (const backend of oneTestBackend()) {
  Deno.test(`akd bench roofline --json, then bench gemm's ceilings from its cache [${backend}]`, async () => {
    await withTempDir(async (dir) => {
      const env = { AKD_CACHE: dir };
      const r = await akd(["bench", "roofline", "--quick", "--json", "--backend", backend], env);
      assert.equal(r.code, 0, r.stderr);
      const records: BenchRecord[] = JSON.parse(r.stdout);
      const info = JSON.parse((await akd(["info", "--json", "--backend", backend])).stdout);
      const expected = PROBES.filter((p) => !p.needs || info.features.includes(p.needs));
      assert.deepEqual(records.map((x) => x.case), expected.map((p) => p.name));
      for (const x of records) {
        assert.equal(x.name, "roofline");
        assert.equal(x.ours.unit, x.case === "alu" ? "GFLOP/s" : "GB/s");
        assert.ok(x.ours.throughput > 0 && Number.isFinite(x.ours.throughput), x.case);
        assert.equal(x.notes?.mesa, info.mesa?.version ?? null);
        assert.equal(x.notes?.timer, "timestamp-query");
        assert.ok((x.notes?.samples as number) >= 5, "best of at least 5");
      }
      const cache = JSON.parse(await Deno.readTextFile(`${dir}/roofline.json`));
      const key = rooflineKey(backend, records[0].adapter, info.mesa?.version ?? null);
      assert.equal(cache[key].alu, records[0].ours.throughput);
      // A later process's kernel records take their ceiling from that cached roofline.
      const g = await akd(["bench", "gemm", "--quick", "--json", "--backend", backend], env);
      assert.equal(g.code, 0, g.stderr);
      for (const x of JSON.parse(g.stdout) as BenchRecord[]) {
        const c = x.notes?.ceiling as { fraction: number; bound: string; roofline: string };
        assert.equal(c.bound, "alu");
        assert.ok(Math.abs(c.fraction - x.ours.throughput / cache[key].alu) < 1e-3, x.case);
        assert.match(c.roofline, /^cached in .*roofline\.json/);
      }
    });
  });
}
