/**
 * Host-side evaluation of the dual-head student (docs/method.md §1): the interpolated prediction
 * p = (1 − α)·softmax(z_ce) + α·softmax(z_kd / β), per-head accuracies, and the probabilities
 * strategies select with (§2: α = 0.5, β = 1). Logits are row-major [n, C] Float32Arrays.
 */

/** Row-wise softmax of `logits / temperature` into float64 (stable: max subtracted). */
export function softmaxRows(logits: Float32Array, classes: number, temperature = 1): Float64Array {
  const n = logits.length / classes;
  const out = new Float64Array(logits.length);
  for (let i = 0; i < n; i++) {
    const row = i * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c] / temperature);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[row + c] / temperature - max);
      out[row + c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) out[row + c] /= sum;
  }
  return out;
}

/** (1 − α)·softmax(ce) + α·softmax(kd / β), as float32 rows. */
export function interpolatedProbs(
  ce: Float32Array,
  kd: Float32Array,
  classes: number,
  alpha: number,
  beta: number,
): Float32Array {
  const pce = softmaxRows(ce, classes);
  const pkd = softmaxRows(kd, classes, beta);
  const out = new Float32Array(ce.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - alpha) * pce[i] + alpha * pkd[i];
  return out;
}

/** Index of the largest value in each row (first index on ties, as torch.argmax). */
export function argmaxRows(values: ArrayLike<number>, classes: number): Int32Array {
  const n = values.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (values[i * classes + c] > values[i * classes + best]) best = c;
    }
    out[i] = best;
  }
  return out;
}

/** Fraction of rows whose argmax is the label. */
export function accuracy(values: ArrayLike<number>, labels: ArrayLike<number>, classes: number) {
  if (values.length !== labels.length * classes) {
    throw new Error(`accuracy: ${values.length} values for ${labels.length} labels × ${classes}`);
  }
  if (labels.length === 0) return NaN;
  const pred = argmaxRows(values, classes);
  let right = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) right++;
  return right / labels.length;
}

export interface HeadAccuracies {
  /** Of the interpolated prediction. */
  accuracy: number;
  accuracy_ce: number;
  accuracy_kd: number;
}

export function headAccuracies(
  ce: Float32Array,
  kd: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  alpha: number,
  beta: number,
): HeadAccuracies {
  return {
    accuracy: accuracy(interpolatedProbs(ce, kd, classes, alpha, beta), labels, classes),
    accuracy_ce: accuracy(ce, labels, classes),
    accuracy_kd: accuracy(kd, labels, classes),
  };
}

/** What strategies see (docs/method.md §2): 0.5·softmax(z_ce) + 0.5·softmax(z_kd). */
export function selectionProbs(ce: Float32Array, kd: Float32Array, classes: number) {
  return interpolatedProbs(ce, kd, classes, 0.5, 1);
}
