/**
 * Learning-rate schedules as pure functions of the step index: `step` counts the optimiser
 * steps already taken, so the lr for the first update is `f(0)` (PyTorch's LambdaLR order:
 * read lr, `optimizer.step()`, `scheduler.step()`).
 */

/**
 * Linear warm-up then linear decay to 0 (`transformers.get_linear_schedule_with_warmup`), with
 * W = ⌊warmupFrac·total⌋ warm-up steps:
 *   lr(s) = base · s / max(1, W)                       for s < W
 *   lr(s) = base · max(0, (total − s) / max(1, total − W))   otherwise.
 * The first update thus has lr 0 when W > 0.
 */
export function warmupLinear(step: number, total: number, base: number, warmupFrac = 0.1): number {
  const warmup = Math.floor(warmupFrac * total);
  if (step < warmup) return base * step / Math.max(1, warmup);
  return base * Math.max(0, (total - step) / Math.max(1, total - warmup));
}

/**
 * Cosine annealing from `base` to `minLr` over `total` steps (`CosineAnnealingLR(T_max=total,
 * eta_min=minLr)` in closed form), after an optional linear warm-up of ⌊warmupFrac·total⌋ steps
 * as in `warmupLinear`; held at `minLr` after `total`.
 */
export function cosine(
  step: number,
  total: number,
  base: number,
  { warmupFrac = 0, minLr = 0 }: { warmupFrac?: number; minLr?: number } = {},
): number {
  const warmup = Math.floor(warmupFrac * total);
  if (step < warmup) return base * step / Math.max(1, warmup);
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return minLr + (base - minLr) * (1 + Math.cos(Math.PI * t)) / 2;
}
