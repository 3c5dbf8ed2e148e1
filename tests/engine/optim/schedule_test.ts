import assert from "node:assert/strict";
import { assertClose } from "../../gpu.ts";
import { cosine, warmupLinear } from "../../../engine/optim/schedule.ts";
import { fixture } from "./fixture.ts";

Deno.test("warmupLinear equals torch LambdaLR with the linear warm-up/decay lambda", () => {
  for (const c of fixture.warmup_linear) {
    const ours = c.lrs.map((_, s) => warmupLinear(s, c.total, c.base, c.warmup_frac));
    assertClose(ours, c.lrs, { rtol: 1e-12, atol: 0, what: `total ${c.total}` });
  }
});

Deno.test("warmupLinear: formula at the corners (total 20, 10% warm-up, base 1)", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 19, 20, 25].map((s) => warmupLinear(s, 20, 1)),
    [0, 0.5, 1, 17 / 18, 1 / 18, 0, 0],
  );
});

Deno.test("cosine equals torch CosineAnnealingLR within T_max; warm-up then cosine", () => {
  for (const c of fixture.cosine) {
    const ours = c.lrs.map((_, s) => cosine(s, c.total, c.base, { minLr: c.min_lr }));
    // CosineAnnealingLR updates recursively: rounding differs from the closed form in the last bits.
    assertClose(ours, c.lrs, { rtol: 1e-9, atol: 1e-15, what: `total ${c.total}` });
  }
  assert.deepEqual(
    [0, 1, 2, 6, 12].map((s) => cosine(s, 10, 2, { warmupFrac: 0.2 })),
    [0, 1, 2, 1, 0],
  );
});
