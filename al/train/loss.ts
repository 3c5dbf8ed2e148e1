/**
 * The ActiveKD loss per step (docs/method.md §1), on one labeled and one unlabeled batch:
 *   0.5 · CE(z_ce(x_L), y) + 0.5 · [KD(z_kd(x_L), t_L) + KD(z_kd(x_U), t_U)],
 *   KD(s, t) = T² · KL(softmax(t/T) ‖ softmax(s/T)), batch-mean; T = 2 by default.
 */
import type { Tensor } from "../../engine/tensor.ts";
import { add, scale } from "../../engine/ops/elementwise.ts";
import { crossEntropy, kdLoss } from "../../engine/ops/softmax.ts";

export interface DualHeadBatch {
  /** CE-head logits of the labeled batch [B, C]. */
  ceLabeled: Tensor;
  /** KD-head logits of the labeled and unlabeled batches [B, C]. */
  kdLabeled: Tensor;
  kdUnlabeled: Tensor;
  /** Labels of the labeled batch, i32 [B]. */
  labels: Tensor;
  /** Teacher logits of the labeled and unlabeled batches [B, C]. */
  teacherLabeled: Tensor;
  teacherUnlabeled: Tensor;
}

export function activeKdLoss(b: DualHeadBatch, temperature: number): Tensor {
  const ce = crossEntropy(b.ceLabeled, b.labels);
  const kd = add(
    kdLoss(b.kdLabeled, b.teacherLabeled, temperature),
    kdLoss(b.kdUnlabeled, b.teacherUnlabeled, temperature),
  );
  return scale(add(ce, kd), 0.5);
}
