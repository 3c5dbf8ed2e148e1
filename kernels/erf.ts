/** erf in float64, for the TS references of GELU and the normal CDF (one implementation). */
export function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for a 1e-6 reference; use the series/continued
  // fraction split instead.
  const z = Math.abs(x);
  let r: number;
  if (z < 3) {
    let term = z, sum = z;
    for (let k = 1; k < 100; k++) {
      term *= (-z * z) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let f = 0;
    for (let k = 60; k >= 1; k--) f = (k / 2) / (z + f);
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
  }
  return x < 0 ? -r : r;
}
