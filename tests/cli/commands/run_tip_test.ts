/**
 * `akd run --teacher tip-adapter-f` end to end: a folder dataset of PNGs (3 classes, colour
 * encodes the class; split 50/20/30 so there is a val split for the fit) and the tiny CLIP
 * fixture (clip_rn) as `--clip`, beside a BPE vocabulary cut to its 800 tokens; 2 rounds after
 * round 0, refitted every round.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { encode } from "fast-png";
import { runCommand } from "../../../cli/commands/run.ts";
import type { Report } from "../../../al/report/types.ts";
import { fixturesDir } from "../../fixtures.ts";
import { oneTestBackend } from "../../gpu.ts";

const fixtures = fixturesDir();
const CLASSES = ["red", "green", "blue"];

/** DIR/<class>/<k>.png, 14 images of 16×16 per class. */
async function writeFolderDataset(dir: string): Promise<void> {
  for (const [c, name] of CLASSES.entries()) {
    await Deno.mkdir(join(dir, name), { recursive: true });
    for (let k = 0; k < 14; k++) {
      const data = new Uint8Array(16 * 16 * 3);
      for (let p = 0; p < 16 * 16; p++) {
        for (let ch = 0; ch < 3; ch++) {
          data[p * 3 + ch] = (ch === c ? 200 : 40) + ((p * 7 + k * 13 + ch * 5) % 50);
        }
      }
      await Deno.writeFile(
        join(dir, name, `${k}.png`),
        encode({ width: 16, height: 16, data, channels: 3 }),
      );
    }
  }
}

/**
 * A `--clip` folder: the tiny CLIP fixture and the OpenAI vocabulary cut to its first 286 merges
 * (512 byte tokens + 286 + 2 specials = the fixture's 800 ids, SOT 798, EOT 799).
 */
async function writeClipDir(dir: string, root: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(join(root, "clip_rn", "model.safetensors"), join(dir, "tiny.safetensors"));
  const full = new TextDecoder().decode(
    gunzipSync(await Deno.readFile(join(root, "clip", "bpe_simple_vocab_16e6.txt.gz"))),
  );
  const cut = full.split("\n").slice(0, 1 + 286).join("\n");
  await Deno.writeFile(join(dir, "bpe_simple_vocab_16e6.txt.gz"), gzipSync(cut));
}

/** Runs `run ARGS...` in process, returning stdout. */
async function run(...args: string[]): Promise<string> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...p: unknown[]) => out.push(p.join(" "));
  try {
    await runCommand().exitOverride().parseAsync(args, { from: "user" });
  } finally {
    console.log = log;
  }
  return out.join("\n");
}

// One backend, like the other whole-run tests: its kernels are tested on both.
for (const backend of oneTestBackend()) {
  Deno.test({
    name: `run [${backend}]: tip-adapter-f on a folder dataset, tiny CLIP, 2 rounds`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = await Deno.makeTempDir();
      const cacheBefore = Deno.env.get("AKD_CACHE");
      Deno.env.set("AKD_CACHE", join(dir, "cache"));
      try {
        await writeFolderDataset(join(dir, "data"));
        await writeClipDir(join(dir, "clip"), fixtures);
        const out = join(dir, "out");
        await run(
          "--dataset",
          `folder:${join(dir, "data")}`,
          "--teacher",
          "tip-adapter-f",
          "--clip",
          join(dir, "clip"),
          "--student",
          "mlp",
          "--image-size",
          "16",
          "--strategies",
          "random",
          "--rounds",
          "2",
          "--budget",
          "3",
          "--repeat",
          "5",
          "--seeds",
          "1",
          "--out",
          out,
          "--backend",
          backend,
          "--quiet",
        );
        const report: Report = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
        assert.equal(report.teacher.spec, "tip-adapter-f");
        assert.deepEqual(report.results.map((r) => r.round), [0, 1, 2]);
        assert.deepEqual(report.results.map((r) => r.labeled), [3, 6, 9]);
        for (const r of report.results) {
          const t = r.teacher_accuracy;
          assert.ok(t !== null && t >= 0 && t <= 1, "teacher accuracy");
        }
        console.log(
          `tip-adapter-f teacher accuracy per round: ${
            report.results.map((r) => r.teacher_accuracy?.toFixed(3)).join(", ")
          } (report.teacher.accuracy ${report.teacher.accuracy?.toFixed(3)})`,
        );
      } finally {
        if (cacheBefore === undefined) Deno.env.delete("AKD_CACHE");
        else Deno.env.set("AKD_CACHE", cacheBefore);
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
