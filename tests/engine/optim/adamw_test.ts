import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { keep, tensor } from "../../../engine/tensor.ts";
import { requireGrad } from "../../../engine/autograd.ts";
import { adamwReference } from "../../../kernels/optim/adamw.ts";
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

gpuTest(
  "AdamW matches the float64 reference on odd shapes (chunk edges, one skipped step)",
  async () => {
    const shapes = [[7], [3, 5], [1], [257]]; // 257 spans two CHUNK-sized workgroups
    const hyper = { lr: 3e-3, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 };
    const init = shapes.map((s, k) => randomData(s.reduce((a, b) => a * b, 1), 10 + k));
    const params = init.map((v, k) => keep(requireGrad(tensor(v, shapes[k]))));
    const ref = init.map((v) => ({
      p: Float64Array.from(v),
      m: new Float64Array(v.length),
      v: new Float64Array(v.length),
      step: 0,
    }));
    const opt = new AdamW(params, {
      lr: hyper.lr,
      betas: [hyper.beta1, hyper.beta2],
      eps: hyper.eps,
      weightDecay: hyper.weightDecay,
    });
    for (let s = 0; s < 4; s++) {
      params.forEach((p, k) => {
        p.grad?.dispose();
        p.grad = undefined;
        if (s === 2 && k === 1) return; // no grad: AdamW leaves the parameter and its step alone
        const g = randomData(p.size, 100 * s + k, -2, 2);
        p.grad = keep(tensor(g, p.shape));
        const r = ref[k];
        adamwReference(r.p, g, r.m, r.v, ++r.step, hyper);
      });
      opt.step();
    }
    for (let k = 0; k < params.length; k++) {
      // float32 state against float64 after 4 steps of size ~lr: a few ulps of O(1) values.
      assertClose(await params[k].read(), ref[k].p, { rtol: 0, atol: 1e-6, what: `param ${k}` });
    }
    opt.dispose();
    for (const p of params) p.dispose();
  },
);
