/**
 * Training memory is flat: after the first step, further steps (forward, cross-entropy,
 * backward, AdamW, BatchNorm running-stat updates) leave the live device bytes exactly where
 * the first left them. Small widths and images keep it fast; the code paths are the full ones.
 */
import assert from "node:assert/strict";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { keep, scope, tensor } from "../../engine/tensor.ts";
import { backward } from "../../engine/ops/backward.ts";
import { crossEntropy } from "../../engine/ops/softmax.ts";
import { noGrad } from "../../engine/autograd.ts";
import { AdamW } from "../../engine/optim/adamw.ts";
import { Rng } from "../../engine/rng.ts";
import { resnet18 } from "../../models/resnet.ts";
import { mobilenetV2 } from "../../models/mobilenet_v2.ts";
import type { ImageClassifier } from "../../models/registry.ts";

const STEPS = 12;

async function liveAfterSteps(model: ImageClassifier, side: number): Promise<number[]> {
  const b = 4;
  const x = keep(tensor(Float32Array.from({ length: b * 3 * side * side }, (_, i) => Math.sin(i)), [
    b,
    3,
    side,
    side,
  ]));
  const y = keep(tensor(Int32Array.from({ length: b }, (_, i) => i % model.numClasses)));
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const live: number[] = [];
  try {
    for (let s = 0; s < STEPS; s++) {
      model.train();
      const loss = scope(() => {
        const l = crossEntropy(model.forward(x), y);
        backward(l);
        return l;
      });
      opt.step();
      opt.zeroGrad();
      assert.ok(Number.isFinite(await loss.item()));
      loss.dispose();
      // An evaluation pass (BatchNorm folded into the convolutions) between steps.
      model.eval();
      scope(() => noGrad(() => model.forward(x))).dispose();
      await engine().sync();
      live.push(engine().pool.liveBytes);
    }
  } finally {
    opt.dispose();
    x.dispose();
    y.dispose();
  }
  return live;
}

gpuTest(
  `resnet18 and mobilenet_v2 training leave live bytes flat over ${STEPS} steps`,
  async () => {
    const before = engine().pool.liveBytes;
    for (
      const [name, make, side] of [
        ["resnet18", () => resnet18({ numClasses: 3, width: 4, rng: Rng.fromSeed(1) }), 19],
        [
          "mobilenet_v2",
          () => mobilenetV2({ numClasses: 3, widthMult: 0.25, rng: Rng.fromSeed(2) }),
          17,
        ],
      ] as const
    ) {
      const model = make();
      const live = await liveAfterSteps(model, side);
      assert.ok(
        live.every((v) => v === live[0]),
        `${name} live bytes per step: ${live}`,
      );
      model.dispose();
    }
    assert.equal(engine().pool.liveBytes, before, "models and optimiser freed everything");
  },
);
