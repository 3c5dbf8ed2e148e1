/**
 * Softmax family: softmax, log-softmax, cross-entropy and the KD loss, each one row kernel
 * forward and one backward (kernels/softmax/softmax.wgsl). Row kernels use subgroup reductions
 * where the adapter has `subgroups`, unless the engine's `kernels.subgroups` is false
 * (engine/kernel_choices.ts): then the workgroup-memory variant runs. The losses read rows as
 * vec4 where C is a multiple of 4, unless `kernels.rowVec4` is false.
 */
import { engine } from "../context.ts";
import { empty, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import {
  rowGrid,
  type RowKernel,
  rowThreads,
  rowVariant,
} from "../../kernels/softmax/row_reduce.ts";
import {
  batchMean,
  crossEntropyBackward,
  crossEntropyBackward4,
  crossEntropyForward,
  crossEntropyForward4,
  kdBackward,
  kdBackward4,
  kdForward,
  kdForward4,
  rowGeometry,
  SOFTMAX_OPS,
  softmaxBackward,
  softmaxForward,
  type SoftmaxOp,
  vec4Loss,
} from "../../kernels/softmax/softmax.ts";

function f32Only(name: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== "f32") throw new Error(`${name}: expects f32 tensors, got ${t.dtype}`);
  }
}

type RowBuffers = Partial<Record<"s" | "t" | "labels" | "g" | "stats" | "out", Tensor>>;

/**
 * One softmax.wgsl entry over `rows` rows of `cols`; unused inputs read the dummy buffer, an
 * unused `stats` gets a scratch word (writable bindings may not alias).
 */
function run(
  kernel: RowKernel,
  label: string,
  bufs: RowBuffers & { out: Tensor },
  geo: { rows: number; cols: number; inner?: number },
  opts: { op?: number; scale?: number; gradScale?: number } = {},
): void {
  const e = engine();
  const { workgroups, groupsX } = rowGrid(geo.rows);
  const scratch = bufs.stats ? undefined : empty([1]);
  e.dispatch(rowVariant(kernel, e.gpu.features, e.kernels.subgroups), {
    buffers: {
      s: bufs.s?.buffer ?? e.dummy,
      t: bufs.t?.buffer ?? e.dummy,
      labels: bufs.labels?.buffer ?? e.dummy,
      g: bufs.g?.buffer ?? e.dummy,
      stats: (bufs.stats ?? scratch!).buffer,
      out: bufs.out.buffer,
    },
    uniforms: {
      rows: geo.rows,
      cols: geo.cols,
      inner: geo.inner ?? 1,
      groups_x: groupsX,
      scale: opts.scale ?? 1,
      grad_scale: opts.gradScale ?? 1,
      _p0: 0,
      _p1: 0,
    },
    overrides: {
      ...(opts.op === undefined ? {} : { OP: opts.op }), // only softmax.wgsl declares OP
      WG: rowThreads(geo.cols, e.gpu.adapter.isFallback, e.kernels.rowThreads),
    },
    workgroups,
    label,
  });
  scratch?.dispose();
}

function softmaxRaw(op: SoftmaxOp, x: Tensor, axis: number): Tensor {
  f32Only(op, x);
  const y = empty(x.shape);
  run(softmaxForward, op, { s: x, out: y }, rowGeometry(x.shape, axis), { op: SOFTMAX_OPS[op] });
  return y;
}

function softmaxGrad(op: SoftmaxOp, y: Tensor, g: Tensor, axis: number): Tensor {
  const dx = empty(y.shape);
  run(softmaxBackward, `${op}_backward`, { s: y, g, out: dx }, rowGeometry(y.shape, axis), {
    op: SOFTMAX_OPS[op],
  });
  return dx;
}

/** softmax along `axis`; as torch, a NaN or +inf makes its row NaN and −inf entries get 0. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const y = softmaxRaw("softmax", x, axis);
  return record("softmax", [x], y, [y], (g) => [softmaxGrad("softmax", y, g, axis)]);
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const y = softmaxRaw("log_softmax", x, axis);
  return record("log_softmax", [x], y, [y], (g) => [softmaxGrad("log_softmax", y, g, axis)]);
}

function checkLogits(name: string, a: Tensor, b?: Tensor): [number, number] {
  f32Only(name, a, ...(b ? [b] : []));
  if (a.rank !== 2) throw new Error(`${name}: expects logits [B, C], got [${a.shape}]`);
  if (b && (b.rank !== 2 || b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[1])) {
    throw new Error(`${name}: shapes [${a.shape}] and [${b.shape}] differ`);
  }
  return [a.shape[0], a.shape[1]];
}

/** Σ rowLoss · scale as a scalar, summed in a fixed order. */
function batchSum(rowLoss: Tensor, scale: number): Tensor {
  const loss = empty([]);
  run(batchMean, "batch_mean", { s: rowLoss, out: loss }, { rows: 1, cols: rowLoss.size }, {
    gradScale: scale,
  });
  return loss;
}

/**
 * Mean over the batch of −log softmax(logits)[label]; logits [B, C], labels i32 [B]. A label
 * outside [0, C) makes the loss NaN (the GPU cannot throw; torch raises).
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const [b, c] = checkLogits("crossEntropy", logits);
  if (labels.dtype !== "i32" || labels.rank !== 1 || labels.shape[0] !== b) {
    throw new Error(
      `crossEntropy: labels must be i32 [${b}], got ${labels.dtype}[${labels.shape}]`,
    );
  }
  const v4 = vec4Loss(c, engine().kernels.rowVec4);
  const lse = empty([b]);
  const rowLoss = empty([b]);
  run(v4 ? crossEntropyForward4 : crossEntropyForward, "cross_entropy", {
    s: logits,
    labels,
    stats: lse,
    out: rowLoss,
  }, {
    rows: b,
    cols: c,
  });
  const loss = batchSum(rowLoss, 1 / b);
  rowLoss.dispose();
  const out = record("cross_entropy", [logits], loss, [logits, labels, lse], (g) => {
    const dx = empty(logits.shape);
    run(
      v4 ? crossEntropyBackward4 : crossEntropyBackward,
      "cross_entropy_backward",
      { s: logits, labels, g, stats: lse, out: dx },
      { rows: b, cols: c },
      { gradScale: 1 / b },
    );
    return [dx];
  });
  lse.dispose();
  return out;
}

/**
 * Knowledge-distillation loss T²·KL(softmax(teacher/T) ‖ softmax(student/T)), batch-mean, as
 * `F.kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean") * T²`. One fused kernel
 * forward, one backward; the gradient flows to the student only. A teacher logit of −inf
 * contributes 0 (torch's 0·log 0 = 0).
 */
export function kdLoss(student: Tensor, teacher: Tensor, temperature: number): Tensor {
  const [b, c] = checkLogits("kdLoss", student, teacher);
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`kdLoss: temperature must be a positive number, got ${temperature}`);
  }
  const temp = temperature;
  const v4 = vec4Loss(c, engine().kernels.rowVec4);
  const stats = empty([b, 2]); // log-sum-exp of student/T and of teacher/T, per row
  const rowLoss = empty([b]);
  run(v4 ? kdForward4 : kdForward, "kd_loss", { s: student, t: teacher, stats, out: rowLoss }, {
    rows: b,
    cols: c,
  }, { scale: 1 / temp });
  const loss = batchSum(rowLoss, (temp * temp) / b);
  rowLoss.dispose();
  const out = record("kd_loss", [student], loss, [student, teacher, stats], (g) => {
    const ds = empty(student.shape);
    // d/ds of T²/B·Σ KL = T/B·(softmax(s/T) − softmax(t/T))
    run(
      v4 ? kdBackward4 : kdBackward,
      "kd_loss_backward",
      { s: student, t: teacher, g, stats, out: ds },
      { rows: b, cols: c },
      { scale: 1 / temp, gradScale: temp / b },
    );
    return [ds];
  });
  stats.dispose();
  return out;
}
