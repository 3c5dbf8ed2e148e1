/** Host-side parameter initialisers drawn from the run's `Rng` (so a seed fixes the weights). */
import type { Rng } from "../rng.ts";

/** n values from U(−bound, bound); zeros without an rng (the tensor is loaded later). */
export function uniformInit(n: number, bound: number, rng?: Rng): Float32Array {
  const out = new Float32Array(n);
  if (rng) { for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * bound; }
  return out;
}

/** n values from N(0, std²); zeros without an rng. */
export function normalInit(n: number, std = 1, rng?: Rng): Float32Array {
  const out = new Float32Array(n);
  if (rng) { for (let i = 0; i < n; i++) out[i] = rng.normal(0, std); }
  return out;
}

/** Glorot/Xavier uniform bound for a [fanOut, fanIn] weight: √(6 / (fanIn + fanOut)). */
export function xavierBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}
