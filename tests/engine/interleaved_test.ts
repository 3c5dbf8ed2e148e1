/** Overlapping async scopes and no-grad regions share global stacks: misuse must fail loudly. */
import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import { isGradEnabled, noGrad, noGradAsync } from "../../engine/autograd.ts";

/** A promise and the function that resolves it: lets a test pick the order things end in. */
function gate(): [Promise<void>, () => void] {
  let open!: () => void;
  const p = new Promise<void>((r) => open = r);
  return [p, open];
}

gpuTest("scopeAsync: two overlapping scopes both throw and free nothing", async () => {
  const [aGate, openA] = gate();
  const [bGate, openB] = gate();
  let fromA!: ReturnType<typeof tensor>;
  const a = scopeAsync(async () => {
    await aGate;
    fromA = tensor([1, 2, 3]); // lands in B's set: B is on top of the stack now
  });
  const b = scopeAsync(async () => {
    await bGate;
  });
  openA();
  await assert.rejects(a, /scopes ended out of order/);
  openB();
  await assert.rejects(b, /scopes ended out of order/);
  assert.equal(fromA.disposed, false, "A's tensor was not freed by B's scope");
  assert.deepEqual(await fromA.toArray(), [1, 2, 3]);
  fromA.dispose();
  // The stack is clean afterwards: a nested pair works and frees what it should.
  let inner!: ReturnType<typeof tensor>;
  await scopeAsync(async () => {
    await scopeAsync(async () => {
      inner = tensor([4]);
      await Promise.resolve();
    });
  });
  assert.equal(inner.disposed, true);
});

gpuTest("scopeAsync: nested scopes that end in order are fine", async () => {
  const kept = await scopeAsync(async () => {
    const t = await scopeAsync(async () => {
      await Promise.resolve();
      return tensor([5, 6]);
    });
    return t;
  });
  assert.deepEqual(await kept.toArray(), [5, 6]);
  kept.dispose();
});

Deno.test("noGradAsync: two overlapping calls both throw; recording is back on after", async () => {
  const [aGate, openA] = gate();
  const [bGate, openB] = gate();
  const a = noGradAsync(() => aGate);
  const b = noGradAsync(() => bGate);
  assert.equal(isGradEnabled(), false);
  openA(); // A ends while B runs: restoring A's "on" would record the graph under B
  await assert.rejects(a, /noGradAsync: calls ended out of order/);
  openB();
  await assert.rejects(b, /noGradAsync: calls ended out of order/);
  assert.equal(isGradEnabled(), true);
  // In order, nesting and errors restore the setting.
  await noGradAsync(async () => {
    await noGradAsync(() => Promise.resolve());
    assert.equal(isGradEnabled(), false);
  });
  assert.equal(isGradEnabled(), true);
  await assert.rejects(noGradAsync(() => Promise.reject(new Error("body"))), /body/);
  assert.throws(() =>
    noGrad(() => {
      throw new Error("sync body");
    }), /sync body/);
  assert.equal(isGradEnabled(), true);
});

Deno.test("noGrad: an async body is refused (the setting would end before it does)", async () => {
  let ran: Promise<void> | undefined;
  assert.throws(
    () => noGrad(() => ran = Promise.resolve()),
    /noGrad\(fn\) got an async fn: use noGradAsync/,
  );
  await ran;
  assert.equal(isGradEnabled(), true);
});
