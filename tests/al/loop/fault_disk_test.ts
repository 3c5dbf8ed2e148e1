/**
 * The disk filling up while a checkpoint or the report is written (issue 14, "Faults"). The
 * full disk is a write stand-in passed to the run (`writeFile`), failing the chosen file with
 * ENOSPC as Deno reports it; every other file is written as usual. The run must fail with a
 * runtime error naming the file (not an InputError: cli/main.ts maps it to exit 1), leave every
 * checkpoint written before it byte-for-byte as it was and no temporary file, and `--resume`
 * must then end with the report of an uninterrupted run.
 *
 * Where this process may mount a tmpfs (root, as here and in CI), the same holds for a real full
 * disk under the real CLI: `akd run` with --out on a 1.2 MB tmpfs exits 1 naming the file whose
 * write found no space, and `akd run --resume` completes once the tmpfs is grown.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  completedRounds,
  roundDir,
  STATE_FILE,
  STUDENT_FILE,
} from "../../../al/loop/checkpoint.ts";
import { InputError } from "../../../engine/errors.ts";
import { writeFileAtomic } from "../../../engine/files.ts";
import { akd } from "../../cli/run_cli.ts";
import { gpuTest, oneTestBackend } from "../../gpu.ts";
import { experiment, tempFiles, timeless, tinyConfig, withDir } from "./fault_run.ts";

/** Deno's error for a write to a full disk (ENOSPC), naming the file it was writing. */
function noSpace(path: string): Error {
  return Object.assign(
    new Error(`No space left on device (os error 28): writefile '${path}'`),
    { code: "ENOSPC" },
  );
}

const read = (path: string) => Deno.readFile(path).catch(() => undefined);

gpuTest(
  "fault: a full disk while a checkpoint or the report is written fails naming the file; --resume completes",
  async () => {
    await withDir(async (dir) => {
      const ref = await tinyConfig(dir, join(dir, "ref"));
      await experiment(ref);
      const whole = await timeless(ref.out);
      const cases = {
        "checkpoint": (out: string) => join(roundDir(out, 1, "pcoreset", 2), STATE_FILE),
        "report.csv (the first report file)": (out: string) => join(out, "report.csv"),
        "report.json (the last)": (out: string) => join(out, "report.json"),
      };
      for (const [what, fileIn] of Object.entries(cases)) {
        const config = { ...ref, out: join(dir, what.split(" ")[0]) };
        const full = fileIn(config.out);
        // Every checkpoint as it was when written, to check the failure leaves them alone.
        const written = new Map<string, Uint8Array | undefined>();
        await assert.rejects(
          experiment(config, {
            writeFile: (path, data) =>
              path === full ? Promise.reject(noSpace(path)) : writeFileAtomic(path, data),
            onCheckpoint: async (d) => {
              for (const f of [STATE_FILE, STUDENT_FILE]) {
                written.set(join(d, f), await read(join(d, f)));
              }
            },
          }),
          (e) => {
            assert.ok(!(e instanceof InputError), `${what}: a full disk is not bad input`);
            assert.match(
              (e as Error).message,
              new RegExp(
                `^${full.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot write ` +
                  `\\(No space left on device`,
              ),
            );
            return true;
          },
          what,
        );
        assert.ok(written.size >= 2, `${what}: checkpoints were written before the failure`);
        for (const [f, bytes] of written) {
          assert.deepEqual(await read(f), bytes, `${what}: ${f} changed`);
        }
        assert.equal(await read(full), undefined, `${what}: ${full} exists`);
        assert.equal(await read(join(config.out, "report.json")), undefined);
        assert.deepEqual(await tempFiles(config.out), [], `${what}: temporary files left`);

        // Room again: --resume finishes the run with the uninterrupted run's report.
        const resumed = await experiment(config, { resume: true });
        assert.equal(resumed.skipped, false);
        assert.deepEqual(await timeless(config.out), whole, what);
      }
    });
  },
  { oneBackend: true },
);

/** Runs `mount` or `umount`; whether it succeeded (false also when the tool is missing). */
async function sh(tool: "mount" | "umount", ...args: string[]): Promise<boolean> {
  const o = await new Deno.Command(tool, { args, stdout: "null", stderr: "null" }).output()
    .catch(() => undefined);
  return o?.code === 0;
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN). */
async function canMountTmpfs(): Promise<boolean> {
  const dir = await Deno.makeTempDir();
  try {
    return await sh("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir) &&
      await sh("umount", dir);
  } finally {
    await Deno.remove(dir);
  }
}

for (const backend of oneTestBackend()) {
  Deno.test({
    name: `fault: a real full disk (tmpfs) under akd run is exit 1 naming the file; --resume ` +
      `completes once there is room [${backend}]`,
    ignore: !(await canMountTmpfs()),
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await withDir(async (dir) => {
        const tiny = await tinyConfig(dir, join(dir, "ref"));
        const configFile = join(dir, "c.json");
        await Deno.writeTextFile(configFile, JSON.stringify(tiny));
        const common = ["--config", configFile, "--backend", backend, "--quiet"];
        const ref = await akd(["run", ...common, "--out", tiny.out]);
        assert.equal(ref.code, 0, ref.stderr);
        const whole = await timeless(tiny.out);

        const disk = join(dir, "disk");
        const out = join(disk, "out");
        await Deno.mkdir(disk);
        // Room for config.json and three students of 334 kB: the fourth's write fails.
        assert.ok(await sh("mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", disk), "mount");
        try {
          const full = await akd(["run", ...common, "--out", out]);
          assert.equal(full.code, 1, full.stderr);
          const m = full.stderr.match(/^akd: (\S+): cannot write \(No space left on device/);
          assert.ok(m, full.stderr);
          assert.ok(m[1].startsWith(out + "/"), m[1]);
          assert.equal(await read(m[1]), undefined, `${m[1]} exists`);
          assert.deepEqual(await tempFiles(out), [], "temporary files left");
          // The rounds checkpointed before the failure still read back whole.
          assert.ok((await completedRounds(out, 1, "random", tiny.rounds)).length >= 2);

          assert.ok(await sh("mount", "-o", "remount,size=8m", disk), "remount");
          const resumed = await akd([
            "run",
            "--resume",
            "--out",
            out,
            "--backend",
            backend,
            "--quiet",
          ]);
          assert.equal(resumed.code, 0, resumed.stderr);
          assert.deepEqual(await timeless(out), whole);
        } finally {
          assert.ok(await sh("umount", disk), `umount ${disk}`);
        }
      });
    },
  });
}
