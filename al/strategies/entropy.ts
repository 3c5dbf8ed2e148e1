/**
 * entropy (uncertainty): the Q rows of largest H(p) = -sum p log(p + 1e-10)
 * (docs/method.md §2).
 */

/** H of each row in float64 (the reference's epsilon inside the log). */
export function entropyScores(probs: Float32Array, cols: number): Float64Array {
  const h = new Float64Array(probs.length / cols);
  for (let r = 0, o = 0; r < h.length; r++, o += cols) {
    let s = 0;
    for (let c = 0; c < cols; c++) s -= probs[o + c] * Math.log(probs[o + c] + 1e-10);
    h[r] = s;
  }
  return h;
}

/** Rows by descending entropy, equal values in ascending row order; the first `budget`. */
export function entropySelect(probs: Float32Array, cols: number, budget: number): Int32Array {
  const h = entropyScores(probs, cols);
  const order = Int32Array.from({ length: h.length }, (_, i) => i);
  order.sort((a, b) => h[b] - h[a] || a - b);
  return order.slice(0, budget);
}
