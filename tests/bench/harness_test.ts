/** The benchmark timing: the round robin of `compare` and the PyTorch worker's protocol. */
import assert from "node:assert/strict";
import { compare, type Contender, TorchWorker } from "../../bench/harness.ts";

Deno.test("compare: runs the contenders round robin, warmup rounds first, and keeps the least", async () => {
  const calls: string[] = [];
  // Seconds each contender reports, in call order (warmup rounds included).
  const own: Record<string, number[]> = { a: [9, 5, 3, 4, 8], b: [1, 7, 6, 2, 9] };
  const contenders: Contender[] = ["a", "b"].map((name) => ({
    name,
    run: () => {
      calls.push(name);
      return own[name].shift();
    },
  }));
  const wall: Contender = { name: "wall", run: () => void calls.push("wall") };
  const t = await compare([...contenders, wall], { warmup: 1, iters: 4 });
  assert.deepEqual(calls, Array(5).fill(["a", "b", "wall"]).flat());
  assert.deepEqual(t.get("a"), { best: 3, median: 5, samples: [5, 3, 4, 8] });
  assert.deepEqual(t.get("b"), { best: 2, median: 7, samples: [7, 6, 2, 9] });
  const w = t.get("wall")!;
  assert.equal(w.samples.length, 4);
  assert.equal(w.best, Math.min(...w.samples));
  assert.ok(w.best >= 0 && w.best < 1, `wall time ${w.best} s`);
});

Deno.test("compare: refuses no timed repetition and twice the same name", async () => {
  const c: Contender = { name: "x", run: () => 1 };
  await assert.rejects(compare([c], { warmup: 0, iters: 0 }), /bad iters 0/);
  await assert.rejects(compare([c, c], { warmup: 0, iters: 1 }), /names must differ/);
});

const torch = await TorchWorker.start();
await torch?.[Symbol.asyncDispose]();

Deno.test({
  name: "TorchWorker: exec defines steps, time runs them in Python, errors name the cause" +
    (torch ? "" : " (ignored: no Python with torch; set AKD_PYTHON)"),
  ignore: !torch,
  async fn() {
    await using w = (await TorchWorker.start())!;
    const r = await w.exec<{ n: number; device: string }>(
      `
calls = []
def step():
    calls.append(1)
    time.sleep(0.02)
    return len(calls)
STEPS["sleep"] = step
print("to stderr, not the protocol")
RESULT = {"n": INPUT["n"] + 1, "device": str(DEVICE)}
`,
      { n: 41 },
    );
    assert.deepEqual(r, { n: 42, device: "cpu" });
    const t = await w.time("sleep", 3);
    assert.equal(t.value, 3);
    assert.ok(t.seconds >= 0.06 && t.seconds < 1, `${t.seconds} s for 3 sleeps of 0.02 s`);
    const c = w.contender("torch", "sleep", 2);
    const s = await c.run();
    assert.ok(typeof s === "number" && s >= 0.04, `${s}`);
    await assert.rejects(w.exec("raise ValueError('bad case')"), /ValueError: bad case/);
    await assert.rejects(w.time("missing"), /KeyError: 'missing'/);
    // Still serving after the errors.
    assert.equal(await w.exec("RESULT = torch.get_num_threads()"), 2);
  },
});
