/** One optimisation step of the student on a labeled and an unlabeled batch. */
import type { Tensor } from "../../engine/tensor.ts";
import { scope } from "../../engine/tensor.ts";
import { backward } from "../../engine/ops/backward.ts";
import type { Optimizer } from "../../engine/optim/optimizer.ts";
import { activeKdLoss } from "./loss.ts";
import type { DualHeadStudent } from "./student.ts";

export interface StepBatch {
  /** Inputs [B, ...] of the labeled and unlabeled batches. */
  labeled: Tensor;
  unlabeled: Tensor;
  /** i32 [B]. */
  labels: Tensor;
  /** Teacher logits [B, C]. */
  teacherLabeled: Tensor;
  teacherUnlabeled: Tensor;
}

/**
 * Forward both batches, backward the ActiveKD loss, update with `optimizer` at `lr`. Returns the
 * loss (a scalar tensor the caller owns); every intermediate is freed.
 */
export function trainStep(
  student: DualHeadStudent,
  optimizer: Optimizer,
  batch: StepBatch,
  lr: number,
  temperature: number,
): Tensor {
  return scope(() => {
    const l = student.forward(batch.labeled);
    const kdUnlabeled = student.forwardKd(batch.unlabeled);
    const loss = activeKdLoss({
      ceLabeled: l.ce,
      kdLabeled: l.kd,
      kdUnlabeled,
      labels: batch.labels,
      teacherLabeled: batch.teacherLabeled,
      teacherUnlabeled: batch.teacherUnlabeled,
    }, temperature);
    optimizer.zeroGrad();
    backward(loss);
    optimizer.setLr(lr);
    optimizer.step();
    optimizer.zeroGrad();
    return loss;
  });
}
