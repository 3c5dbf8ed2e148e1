/**
 * `akd plan` on the tiny experiment: the JSON plan (one entry per phase and strategy, the
 * adapter's limits, the largest batch); a memory budget too small is exit 2 after the plan,
 * naming the phase; a bad --memory names the flag; and `run` refuses a config whose training
 * step cannot fit before it writes any round (only config.json exists).
 */
import assert from "node:assert/strict";
import type { Command } from "@commander-js/extra-typings";
import { join } from "node:path";
import { planCommand } from "../../../cli/commands/plan.ts";
import { runCommand } from "../../../cli/commands/run.ts";
import { parseMemory } from "../../../cli/commands/plan.ts";
import { CONFIG_KEYS, FLAG_KINDS, flagName } from "../../../al/config.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import type { RunPlan } from "../../../al/loop/plan.ts";
import { gpuTest } from "../../gpu.ts";
import { writeTinyRun } from "./tiny_run.ts";
import { withTempDir } from "../../temp_dir.ts";

/** Runs a command in-process; returns stdout (stderr is dropped). */
async function call(make: () => Command, args: string[]): Promise<string> {
  const out: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...p: unknown[]) => out.push(p.join(" "));
  console.error = () => {};
  try {
    await make().exitOverride().parseAsync(args, { from: "user" });
  } finally {
    [console.log, console.error] = [log, error];
  }
  return out.join("\n");
}

Deno.test("--memory takes bytes or KiB/MiB/GiB and names itself on bad input", () => {
  assert.equal(parseMemory("1024"), 1024);
  assert.equal(parseMemory("1.5KiB"), 1536);
  assert.equal(parseMemory("8GiB"), 8 * 2 ** 30);
  for (const bad of ["", "8GB", "-1", "0", "lots"]) {
    assert.throws(() => parseMemory(bad), /^InputError: --memory: expected a size/);
  }
});

Deno.test("akd plan --help lists --memory, --config and every run key", () => {
  const help = planCommand().helpInformation();
  assert.match(help, /^Usage: plan /);
  const keys = CONFIG_KEYS.map((k) =>
    `${flagName(k)}${FLAG_KINDS[k] === "bool" ? "" : " <value>"}`
  );
  for (const flag of ["--config <file>", "--memory <size>", "--json", ...keys]) {
    assert.ok(help.includes(flag), flag);
  }
});

gpuTest(
  "akd plan --json on the tiny run: every phase and strategy, limits, largest batch",
  async () => {
    await withTempDir(async (dir) => {
      const config = join(dir, "c.json");
      await Deno.writeTextFile(config, JSON.stringify(await writeTinyRun(dir)));
      const plan = JSON.parse(
        await call(planCommand as unknown as () => Command, ["--config", config, "--json"]),
      ) as RunPlan;
      assert.deepEqual(plan.phases.map((p) => p.phase), ["train", "score", "select", "select"]);
      assert.equal(plan.classes, 4);
      assert.equal(plan.pool, 156); // 160 train images, 1 shot of 4 classes
      assert.equal(plan.labeled, 16); // 4 + 3 rounds of 4
      assert.equal(plan.limits.maxBufferSize, engine().gpu.limits.maxBufferSize);
      const train = plan.phases[0];
      assert.equal(train.batch, 16);
      assert.ok(train.peakBytes > 0 && train.deviceBytes >= train.peakBytes);
      assert.ok(typeof train.maxBatch === "number" && train.maxBatch >= 16);
      assert.ok(plan.phases.every((p) => p.exceeds === undefined));

      // A budget below the training step's buffers: exit 2 (an InputError) after the plan.
      const budget = String(train.deviceBytes - 1);
      await assert.rejects(
        () =>
          call(planCommand as unknown as () => Command, ["--config", config, "--memory", budget]),
        (e: Error) =>
          e instanceof InputError &&
          /^plan: the train phase \(mlp student.*batch 16\) does not fit this adapter: .* exceed the device memory budget/
            .test(e.message),
      );
    });
  },
  { oneBackend: true },
);

gpuTest("run refuses a training step past the binding limit before any round", async () => {
  await withTempDir(async (dir) => {
    const config = join(dir, "c.json");
    await Deno.writeTextFile(config, JSON.stringify(await writeTinyRun(dir)));
    const out = join(dir, "out");
    // ResNet-18 at 2048 pixels: 64 images' stem activation is 16 GiB, past any binding limit.
    const args = ["--config", config, "--out", out, "--quiet", "--student", "resnet18"];
    await assert.rejects(
      () =>
        call(runCommand as unknown as () => Command, [
          ...args,
          "--image-size",
          "2048",
          "--batch-size",
          "64",
        ]),
      (e: Error) =>
        e instanceof InputError &&
        /^plan: the train phase \(resnet18 student.*batch 64\) does not fit this adapter: batch of 64: an activation would exceed .*binding limit.*; (the largest batch that fits is \d+|not even a batch of 1 fits) \(akd plan/
          .test(e.message),
    );
    const left = [];
    for await (const e of Deno.readDir(out)) left.push(e.name);
    assert.deepEqual(left, ["config.json"]);
  });
}, { oneBackend: true });
