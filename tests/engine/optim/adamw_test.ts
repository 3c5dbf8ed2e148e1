import assert from "node:assert/strict";
import { assertClose, gpuTest } from "../../gpu.ts";
import { AdamW } from "../../../engine/optim/adamw.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import { fixture, makeParams, setGrads } from "./fixture.ts";

const c = fixture.adamw;
const [beta1, beta2] = c.hyper.betas as number[];
const options = {
  lr: c.hyper.lr as number,
  betas: [beta1, beta2] as [number, number],
  eps: c.hyper.eps as number,
  weightDecay: c.hyper.weight_decay as number,
};

gpuTest("AdamW matches torch.optim.AdamW over 5 steps (lr changes, skipped grads)", async () => {
  const params = makeParams(c);
  const opt = new AdamW(params, options);
  for (let s = 0; s < c.steps.length; s++) {
    opt.setLr(c.steps[s].lr);
    setGrads(params, c, s);
    opt.step();
    for (let k = 0; k < params.length; k++) {
      // |Δ| <= 1e-6 absolute on O(1) parameters: a few float32 ulps.
      assertClose(await params[k].read(), c.steps[s].params[k], {
        rtol: 0,
        atol: 1e-6,
        what: `step ${s + 1} param ${k}`,
      });
    }
  }
  opt.dispose();
  for (const p of params) p.dispose();
});

gpuTest("AdamW stateDict/loadStateDict resumes exactly", async () => {
  const run = async (split: boolean) => {
    const params = makeParams(c);
    let opt = new AdamW(params, options);
    for (let s = 0; s < c.steps.length; s++) {
      if (split && s === 2) {
        const state = await opt.stateDict();
        opt.dispose();
        opt = new AdamW(params, { lr: 0.5, weightDecay: 0 });
        opt.loadStateDict(state);
        assert.equal(opt.lr, c.steps[1].lr);
      }
      opt.setLr(c.steps[s].lr);
      setGrads(params, c, s);
      opt.step();
    }
    const out = await Promise.all(params.map((p) => p.read()));
    opt.dispose();
    for (const p of params) p.dispose();
    return out;
  };
  assert.deepEqual(await run(true), await run(false));
});

gpuTest("AdamW rejects bad hyper-parameters and mismatched state", async () => {
  const params = makeParams(c);
  assert.throws(() => new AdamW(params, { betas: [1, 0.999] }), InputError);
  assert.throws(() => new AdamW(params, { lr: -1 }), InputError);
  assert.throws(() => new AdamW([params[0], params[0]]), InputError);
  const opt = new AdamW(params);
  const state = await opt.stateDict();
  const other = new AdamW(params.slice(1));
  assert.throws(() => other.loadStateDict(state), /AdamW state: has 3 parameters, expected 2/);
  for (const o of [opt, other]) o.dispose();
  for (const p of params) p.dispose();
  await engine().sync();
});
