import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { InputError } from "../../engine/errors.ts";
import { defaultKernelChoices, parseGemmTiles } from "../../engine/kernel_choices.ts";
import { LLVMPIPE_TILES } from "../../kernels/gemm/tiles.ts";

const llvmpipe = {
  adapter: { description: "llvmpipe (LLVM 15.0.6, 256 bits)", device: "", isFallback: false },
  features: new Set<string>(),
} as unknown as Parameters<typeof defaultKernelChoices>[0];

Deno.test("defaultKernelChoices: the adapter's tiles, or AKD_GEMM_TILES when set", () => {
  assert.deepEqual(defaultKernelChoices(llvmpipe, () => undefined), {
    gemmTiles: LLVMPIPE_TILES,
    subgroups: true,
    rowVec4: true,
  });
  const tiled = { kernel: "tiled", WG_X: 16, WG_Y: 4, TM: 3, BK: 8 };
  const env = (name: string) => name === "AKD_GEMM_TILES" ? JSON.stringify(tiled) : undefined;
  assert.deepEqual(defaultKernelChoices(llvmpipe, env).gemmTiles, tiled);
});

Deno.test("AKD_GEMM_TILES: a bad value is an InputError naming the variable and the fault", () => {
  const cases: [string, RegExp][] = [
    ["{kernel: direct", /^AKD_GEMM_TILES: not JSON/],
    ['{"kernel":"fast","WG_X":8}', /^AKD_GEMM_TILES: not GEMM tiles at kernel/],
    ['{"kernel":"subgroup"}', /^AKD_GEMM_TILES: not GEMM tiles at WG_X/],
    ['{"kernel":"subgroup","WG_X":0}', /^AKD_GEMM_TILES: not GEMM tiles at WG_X/],
    ['{"kernel":"subgroup","WG_X":8.5}', /^AKD_GEMM_TILES: not GEMM tiles at WG_X/],
    ['{"kernel":"subgroup","WG_X":8,"TM":2}', /^AKD_GEMM_TILES: not GEMM tiles/],
    ["[]", /^AKD_GEMM_TILES: not GEMM tiles/],
  ];
  for (const [text, message] of cases) {
    const env = (name: string) => name === "AKD_GEMM_TILES" ? text : undefined;
    assert.throws(() => defaultKernelChoices(llvmpipe, env), (e: Error) => {
      assert.ok(e instanceof InputError, `${text}: ${e}`);
      assert.match(e.message, message, text);
      assert.doesNotMatch(e.message, /\n/, "one line");
      return true;
    });
  }
  assert.deepEqual(parseGemmTiles('{"kernel":"subgroup","WG_X":64}', "x"), {
    kernel: "subgroup",
    WG_X: 64,
  });
});

Deno.test("akd with a bad AKD_GEMM_TILES exits 2 naming it, with no output", async () => {
  const main = new URL("../../cli/main.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main.pathname, "info", "--backend", "native"],
    env: { AKD_GEMM_TILES: '{"kernel":"direct"' },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /^akd: AKD_GEMM_TILES: not JSON/);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.equal(out.stdout.length, 0);
});

gpuTest("Engine.withKernels: sets choices for its body only; interleaved calls throw", async () => {
  const e = engine();
  const before = e.kernels;
  const seen = await e.withKernels({ rowThreads: 64 }, () => e.kernels.rowThreads);
  assert.equal(seen, 64);
  assert.equal(e.kernels, before);
  await assert.rejects(
    e.withKernels({ subgroups: false }, () => {
      throw new Error("body failed");
    }),
    /body failed/,
  );
  assert.equal(e.kernels, before, "restored after a failing body");

  // A starts, B starts, A finishes while B still runs: A would restore over B's choices.
  let releaseB!: () => void;
  const bGate = new Promise<void>((r) => releaseB = r);
  let releaseA!: () => void;
  const aGate = new Promise<void>((r) => releaseA = r);
  const a = e.withKernels({ permuteRun: 3 }, () => aGate);
  const b = e.withKernels({ permuteRun: 5 }, () => bGate);
  releaseA();
  await assert.rejects(a, /interleaved/);
  releaseB();
  await assert.rejects(b, /interleaved/);
  assert.equal(e.kernels, before, "the engine's own choices are back");
});
