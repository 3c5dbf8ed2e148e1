/**
 * Gradient check: the GPU backward of `fn` against central finite differences of a float64
 * CPU reference of the same function. Loss = sum(fn(x) · probe) with a fixed random probe, so
 * every output element contributes with a distinct weight.
 */
import { scopeAsync, type Tensor, tensor } from "../engine/tensor.ts";
import { requireGrad } from "../engine/autograd.ts";
import { mul, sum } from "../engine/ops/mod.ts";
import { backward } from "../engine/ops/backward.ts";
import { assertClose, randomData } from "./gpu.ts";

export interface GradInput {
  data: Float32Array;
  shape: number[];
  /** false for inputs that are not differentiated (labels, masks). */
  grad?: boolean;
}

export async function gradcheck(
  name: string,
  inputs: GradInput[],
  fn: (xs: Tensor[]) => Tensor,
  reference: (xs: Float64Array[]) => ArrayLike<number>,
  { rtol = 2e-3, atol = 2e-4, h = 1e-6 } = {},
): Promise<void> {
  const outN = reference(inputs.map((i) => Float64Array.from(i.data))).length;
  const probe = randomData(outN, 99, -1, 1);
  const grads = await scopeAsync(async () => {
    const xs = inputs.map((i) => {
      const t = tensor(i.data, i.shape);
      return i.grad === false ? t : requireGrad(t);
    });
    const out = fn(xs);
    if (out.size !== outN) throw new Error(`${name}: GPU output ${out.size} != reference ${outN}`);
    const loss = sum(mul(out, tensor(probe, out.shape)));
    backward(loss);
    const result: (Float32Array | undefined)[] = [];
    for (const x of xs) result.push(x.grad ? (await x.grad.read()) as Float32Array : undefined);
    for (const x of xs) x.grad?.dispose();
    return result;
  });
  const lossRef = (xs: Float64Array[]) => {
    const y = reference(xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * probe[i];
    return s;
  };
  inputs.forEach((input, k) => {
    if (input.grad === false) return;
    const xs = inputs.map((i) => Float64Array.from(i.data));
    const expected = new Float64Array(input.data.length);
    for (let j = 0; j < expected.length; j++) {
      const v = xs[k][j];
      xs[k][j] = v + h;
      const up = lossRef(xs);
      xs[k][j] = v - h;
      const down = lossRef(xs);
      xs[k][j] = v;
      expected[j] = (up - down) / (2 * h);
    }
    const got = grads[k];
    if (!got) throw new Error(`${name}: input ${k} received no gradient`);
    assertClose(got, expected, { rtol, atol, what: `${name} d/dinput${k}` });
  });
}
