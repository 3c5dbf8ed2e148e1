/**
 * classbalanced (docs/method.md §2): predicted classes y^ = argmax p; class weights
 * w_c = |L| / (n_c + 1) over the predicted classes (uniform with no labeled rows), normalised;
 * floor(Q w_c) each, the remainder one by one to the heaviest classes (ties: smaller class);
 * random rows within each predicted class, in ascending class order; any shortfall filled at
 * random from the rows left.
 */
import type { Rng } from "../../engine/rng.ts";

/** How many picks each predicted class gets (classes absent from the pool get none). */
export function classAllocation(
  predicted: Int32Array,
  labeledCounts: Map<number, number>,
  labeledTotal: number,
  budget: number,
): Map<number, number> {
  const classes = [...new Set(predicted)].sort((a, b) => a - b);
  const weight = new Map(
    classes.map((
      c,
    ) => [c, labeledTotal > 0 ? labeledTotal / ((labeledCounts.get(c) ?? 0) + 1) : 1]),
  );
  const total = [...weight.values()].reduce((a, b) => a + b, 0);
  const alloc = new Map(classes.map((c) => [c, Math.floor((budget * weight.get(c)!) / total)]));
  let left = budget - [...alloc.values()].reduce((a, b) => a + b, 0);
  const heaviest = [...classes].sort((a, b) => weight.get(b)! - weight.get(a)! || a - b);
  for (const c of heaviest) {
    if (left <= 0) break;
    alloc.set(c, alloc.get(c)! + 1);
    left--;
  }
  return alloc;
}

export function classBalancedSelect(
  predicted: Int32Array,
  labeledClasses: Int32Array,
  budget: number,
  rng: Rng,
): Int32Array {
  const counts = new Map<number, number>();
  for (const c of labeledClasses) counts.set(c, (counts.get(c) ?? 0) + 1);
  const alloc = classAllocation(predicted, counts, labeledClasses.length, budget);
  const members = new Map<number, number[]>();
  predicted.forEach((c, i) => {
    const rows = members.get(c);
    if (rows) rows.push(i);
    else members.set(c, [i]);
  });
  const picked: number[] = [];
  const taken = new Uint8Array(predicted.length);
  for (const c of [...members.keys()].sort((a, b) => a - b)) {
    const rows = members.get(c)!;
    const take = Math.min(alloc.get(c) ?? 0, rows.length, budget - picked.length);
    for (const j of rng.choice(rows.length, take)) {
      picked.push(rows[j]);
      taken[rows[j]] = 1;
    }
  }
  if (picked.length < budget) {
    const rest = Int32Array.from({ length: predicted.length }, (_, i) => i).filter((i) =>
      !taken[i]
    );
    for (const j of rng.choice(rest.length, budget - picked.length)) picked.push(rest[j]);
  }
  return Int32Array.from(picked);
}
