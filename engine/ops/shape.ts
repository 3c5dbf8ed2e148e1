/** Shape-only ops that share storage (no copy). */
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";

/** A view of `x` with a new shape of the same size; one dim may be -1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.map((d) => (d === -1 ? x.size / Math.max(1, numel(known)) : d));
  if (numel(inferred) !== x.size || shape.filter((d) => d === -1).length > 1) {
    throw new Error(`reshape: [${x.shape}] (${x.size} elements) cannot become [${shape}]`);
  }
  const out = new Tensor(inferred, x.dtype, x.storage);
  return record("reshape", [x], out, [], (g) => [new Tensor(x.shape, g.dtype, g.storage)]);
}
