/**
 * One optimisation step of the student: on a labeled and an unlabeled batch with the teacher's
 * logits (ActiveKD), or on the labeled batch alone with no teacher (plain active learning).
 */
import type { Tensor } from "../../engine/tensor.ts";
import { scope } from "../../engine/tensor.ts";
import { backward } from "../../engine/ops/backward.ts";
import type { Optimizer } from "../../engine/optim/optimizer.ts";
import { crossEntropy } from "../../engine/ops/softmax.ts";
import { activeKdLoss } from "./loss.ts";
import type { DualHeadStudent } from "./student.ts";

export interface StepBatch {
  /** Inputs [B, ...] of the labeled batch, and its labels (i32 [B]). */
  labeled: Tensor;
  labels: Tensor;
  /** The unlabeled batch [B, ...] and the teacher's logits [B, C]; absent with no teacher. */
  distill?: { unlabeled: Tensor; teacherLabeled: Tensor; teacherUnlabeled: Tensor };
}

/**
 * Forward the batches, backward the ActiveKD loss (or, with no teacher, the CE of the labeled
 * batch), update with `optimizer` at `lr`. Returns the loss (a scalar tensor the caller owns);
 * every intermediate is freed.
 */
export function trainStep(
  student: DualHeadStudent,
  optimizer: Optimizer,
  batch: StepBatch,
  lr: number,
  temperature: number,
): Tensor {
  return scope(() => {
    const d = batch.distill;
    let loss: Tensor;
    if (d) {
      const l = student.forward(batch.labeled);
      loss = activeKdLoss({
        ceLabeled: l.ce,
        kdLabeled: l.kd,
        kdUnlabeled: student.forwardKd(d.unlabeled),
        labels: batch.labels,
        teacherLabeled: d.teacherLabeled,
        teacherUnlabeled: d.teacherUnlabeled,
      }, temperature);
    } else {
      loss = crossEntropy(student.forwardCe(batch.labeled), batch.labels);
    }
    optimizer.zeroGrad();
    backward(loss);
    optimizer.setLr(lr);
    optimizer.step();
    optimizer.zeroGrad();
    return loss;
  });
}
