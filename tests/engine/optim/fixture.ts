/** The PyTorch optimiser fixture written by make_optim_fixture.py, and helpers to replay it. */
import { keep, type Tensor, tensor } from "../../../engine/tensor.ts";
import { requireGrad } from "../../../engine/autograd.ts";

export interface OptimCase {
  hyper: Record<string, number | boolean | number[]>;
  shapes: number[][];
  init: number[][];
  steps: { lr: number; grads: (number[] | null)[]; params: number[][] }[];
}

export interface OptimFixture {
  adamw: OptimCase;
  sgd: OptimCase[];
  warmup_linear: { total: number; warmup_frac: number; base: number; lrs: number[] }[];
  cosine: { total: number; min_lr: number; base: number; lrs: number[] }[];
}

export const fixture: OptimFixture = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/optim.json", import.meta.url)),
);

/** Fresh leaf parameters holding the case's initial values (the caller disposes them). */
export function makeParams(c: OptimCase): Tensor[] {
  return c.init.map((v, k) => keep(requireGrad(tensor(v, c.shapes[k]))));
}

/** Sets each parameter's grad as recorded for step s (none where PyTorch had None). */
export function setGrads(params: Tensor[], c: OptimCase, s: number): void {
  params.forEach((p, k) => {
    p.grad?.dispose();
    const g = c.steps[s].grads[k];
    p.grad = g ? keep(tensor(g, p.shape)) : undefined;
  });
}
