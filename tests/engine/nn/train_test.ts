import assert from "node:assert/strict";
import { gpuTest } from "../../gpu.ts";
import { Module } from "../../../engine/nn/module.ts";
import { Linear } from "../../../engine/nn/linear.ts";
import { AdamW } from "../../../engine/optim/adamw.ts";
import { SGD } from "../../../engine/optim/sgd.ts";
import type { Optimizer } from "../../../engine/optim/optimizer.ts";
import { warmupLinear } from "../../../engine/optim/schedule.ts";
import { crossEntropy } from "../../../engine/ops/softmax.ts";
import { backward } from "../../../engine/ops/backward.ts";
import { engine } from "../../../engine/context.ts";
import { Rng } from "../../../engine/rng.ts";
import { keep, scope, type Tensor, tensor } from "../../../engine/tensor.ts";

class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly fc3: Linear;

  constructor(rng: Rng) {
    super();
    this.fc1 = this.child("fc1", new Linear(2, 32, { rng }));
    this.fc2 = this.child("fc2", new Linear(32, 32, { rng }));
    this.fc3 = this.child("fc3", new Linear(32, 2, { rng }));
  }

  forward(x: Tensor): Tensor {
    return this.fc3.forward(this.fc2.forward(this.fc1.forward(x, "relu"), "relu"));
  }
}

/** Two interleaved spirals (one turn each), 2 × 100 points with a little noise. */
function spirals(rng: Rng): { x: Float32Array; y: Int32Array } {
  const n = 100;
  const x = new Float32Array(4 * n);
  const y = new Int32Array(2 * n);
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const t = 0.25 + (i / n) * 2 * Math.PI;
      const r = t / (2 * Math.PI);
      const k = c * n + i;
      x[2 * k] = r * Math.cos(t + c * Math.PI) + rng.normal(0, 0.02);
      x[2 * k + 1] = r * Math.sin(t + c * Math.PI) + rng.normal(0, 0.02);
      y[k] = c;
    }
  }
  return { x, y };
}

async function train(makeOpt: (m: Mlp) => Optimizer, steps: number, base: number) {
  const rng = Rng.fromSeed(1);
  const data = spirals(rng.stream("data"));
  const net = new Mlp(rng.stream("init"));
  const opt = makeOpt(net);
  const x = keep(tensor(data.x, [200, 2]));
  const y = keep(tensor(data.y, [200], "i32"));
  const e = engine();
  const losses: number[] = [];
  const live: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.setLr(warmupLinear(s, steps, base, 0.05));
    const loss = scope(() => {
      const l = crossEntropy(net.forward(x), y);
      backward(l);
      opt.step();
      opt.zeroGrad();
      return l;
    });
    // Few readbacks: the loop records ahead of the device, as training does.
    if (s % 100 === 0 || s === steps - 1) losses.push(await loss.item());
    loss.dispose();
    live.push(e.pool.liveBytes);
  }
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
  return { losses, live };
}

gpuTest(
  "an MLP learns two spirals with AdamW (loss < 0.05 in 400 steps); live bytes flat",
  async () => {
    const { losses, live } = await train((m) => new AdamW(m.parameters(), { lr: 0 }), 400, 0.02);
    assert.ok(losses[0] > 0.6, `initial loss ${losses[0]}`);
    assert.ok(losses.at(-1)! < 0.05, `final loss ${losses.at(-1)} (trace ${losses})`);
    // Every step frees what it allocates: live bytes after step 1 equal those after step 400.
    assert.equal(new Set(live).size, 1, `live bytes vary: ${[...new Set(live)]}`);
  },
);

gpuTest("the same MLP learns with SGD + Nesterov momentum (loss < 0.2 in 400 steps)", async () => {
  const { losses } = await train(
    (m) => new SGD(m.parameters(), { lr: 0, momentum: 0.9, nesterov: true }),
    400,
    0.2,
  );
  assert.ok(losses.at(-1)! < 0.2, `final loss ${losses.at(-1)} (trace ${losses})`);
});
