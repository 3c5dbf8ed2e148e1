import assert from "node:assert/strict";
import { assertClose, gpuTest, randomData } from "../../gpu.ts";
import { keep, tensor } from "../../../engine/tensor.ts";
import { requireGrad } from "../../../engine/autograd.ts";
import { sgdReference } from "../../../kernels/optim/sgd.ts";
import { SGD, type SGDOptions } from "../../../engine/optim/sgd.ts";
import { InputError } from "../../../engine/errors.ts";
import { fixture, makeParams, type OptimCase, setGrads } from "./fixture.ts";

function options(c: OptimCase): SGDOptions {
  return {
    lr: c.hyper.lr as number,
    momentum: c.hyper.momentum as number,
    dampening: c.hyper.dampening as number,
    weightDecay: c.hyper.weight_decay as number,
    nesterov: c.hyper.nesterov as boolean,
  };
}

gpuTest(
  "SGD matches torch.optim.SGD (momentum, Nesterov, dampening, decay, skipped grads)",
  async () => {
    for (const c of fixture.sgd) {
      const params = makeParams(c);
      const opt = new SGD(params, options(c));
      for (let s = 0; s < c.steps.length; s++) {
        opt.setLr(c.steps[s].lr);
        setGrads(params, c, s);
        opt.step();
        for (let k = 0; k < params.length; k++) {
          assertClose(await params[k].read(), c.steps[s].params[k], {
            rtol: 0,
            atol: 1e-6,
            what: `SGD ${JSON.stringify(c.hyper)} step ${s + 1} param ${k}`,
          });
        }
      }
      opt.dispose();
      for (const p of params) p.dispose();
    }
  },
);

gpuTest("SGD stateDict/loadStateDict resumes exactly", async () => {
  const c = fixture.sgd[1];
  const run = async (split: boolean) => {
    const params = makeParams(c);
    let opt = new SGD(params, options(c));
    for (let s = 0; s < c.steps.length; s++) {
      if (split && s === 1) {
        const state = await opt.stateDict();
        opt.dispose();
        opt = new SGD(params, { lr: 1 });
        opt.loadStateDict(state);
        assert.equal(opt.nesterov, true);
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

gpuTest("SGD rejects Nesterov without momentum and negative rates", () => {
  const params = makeParams(fixture.sgd[0]);
  assert.throws(() => new SGD(params, { lr: 0.1, nesterov: true }), InputError);
  assert.throws(() => new SGD(params, { lr: 0.1, momentum: -0.5 }), InputError);
  assert.throws(() => new SGD(params, { lr: Number.NaN }), InputError);
  for (const p of params) p.dispose();
});

gpuTest(
  "SGD matches the float64 reference on odd shapes (chunk edges, one skipped step)",
  async () => {
    const shapes = [[7], [3, 5], [1], [257]]; // 257 spans two CHUNK-sized workgroups
    const hyper = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: false };
    const init = shapes.map((s, k) => randomData(s.reduce((a, b) => a * b, 1), 20 + k));
    const params = init.map((v, k) => keep(requireGrad(tensor(v, shapes[k]))));
    const ref = init.map((v) => ({
      p: Float64Array.from(v),
      buf: new Float64Array(v.length),
      n: 0,
    }));
    const opt = new SGD(params, hyper);
    for (let s = 0; s < 4; s++) {
      params.forEach((p, k) => {
        p.grad?.dispose();
        p.grad = undefined;
        if (s === 1 && k === 3) return; // no grad: SGD leaves the parameter and its buffer alone
        const g = randomData(p.size, 100 * s + k, -2, 2);
        p.grad = keep(tensor(g, p.shape));
        const r = ref[k];
        sgdReference(r.p, g, r.buf, r.n++ === 0, hyper);
      });
      opt.step();
    }
    for (let k = 0; k < params.length; k++) {
      // float32 against float64 after 4 steps of size ~lr·|g|: a few ulps of O(1) values.
      assertClose(await params[k].read(), ref[k].p, { rtol: 0, atol: 1e-6, what: `param ${k}` });
    }
    opt.dispose();
    for (const p of params) p.dispose();
  },
);
