/** Shape checks and host access for the matrices a strategy reads; bad input is InputError. */
import { InputError } from "../../engine/errors.ts";
import { Tensor } from "../../engine/tensor.ts";
import { type Matrix, PROBABILITY_TOLERANCE, type RowStream } from "./types.ts";

/** A matrix streamed by rows (its reader checked its dtype). */
export function isRowStream(m: Matrix): m is RowStream {
  return !(m instanceof Tensor) && "rows" in m;
}

/** [rows, cols] of a rank-2 float32 matrix. */
export function dims(m: Matrix, what: string): [number, number] {
  const dtype = m instanceof Tensor
    ? m.dtype
    : isRowStream(m) || m.data instanceof Float32Array
    ? "f32"
    : "other";
  if (dtype !== "f32") throw new InputError(`${what}: expected float32, got ${dtype}`);
  if (m.shape.length !== 2) {
    throw new InputError(`${what}: expected a [rows, cols] matrix, got shape [${m.shape}]`);
  }
  const [rows, cols] = m.shape;
  if (cols < 1) throw new InputError(`${what}: has no columns`);
  if (!(m instanceof Tensor) && !isRowStream(m) && m.data.length !== rows * cols) {
    throw new InputError(`${what}: ${m.data.length} values for shape [${m.shape}]`);
  }
  return [rows, cols];
}

/** The matrix's values in host memory (a GPU tensor is read back, a stream read whole). */
export async function hostData(m: Matrix): Promise<Float32Array> {
  if (m instanceof Tensor) return (await m.read()) as Float32Array;
  return isRowStream(m) ? (await m.rows(0, m.shape[0])).slice() : m.data;
}

/** Refuses NaN/Inf (and, with `probabilities`, rows that are not probability vectors). */
export function checkRows(
  data: Float32Array,
  cols: number,
  what: string,
  probabilities: boolean,
): void {
  for (let r = 0, o = 0; o < data.length; r++, o += cols) {
    let sum = 0;
    let negative = false;
    for (let c = 0; c < cols; c++) {
      const v = data[o + c];
      if (!Number.isFinite(v)) throw new InputError(`${what}: row ${r} contains NaN or Inf`);
      sum += v;
      negative ||= v < 0;
    }
    if (probabilities && (negative || Math.abs(sum - 1) > PROBABILITY_TOLERANCE)) {
      throw new InputError(
        `${what}: row ${r} is not a probability vector (entries >= 0, sum ${sum.toPrecision(6)}` +
          ` not within ${PROBABILITY_TOLERANCE} of 1)`,
      );
    }
  }
}

/** Index of the first largest entry of each row (torch.argmax's tie rule). */
export function rowArgmax(data: Float32Array, cols: number): Int32Array {
  const out = new Int32Array(data.length / cols);
  for (let r = 0, o = 0; r < out.length; r++, o += cols) {
    let arg = 0;
    for (let c = 1; c < cols; c++) if (data[o + c] > data[o + arg]) arg = c;
    out[r] = arg;
  }
  return out;
}
