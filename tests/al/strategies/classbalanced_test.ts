import assert from "node:assert/strict";
import { Rng } from "../../../engine/rng.ts";
import { classAllocation, classBalancedSelect } from "../../../al/strategies/classbalanced.ts";

Deno.test("classAllocation: w_c = |L| / (n_c + 1), floors, remainder to heaviest classes", () => {
  // Predicted classes 0, 1, 2 (3 absent from the pool); labeled counts 0: 3, 1: 0, 2: 1, 3: 5.
  const predicted = Int32Array.from([0, 1, 2, 2, 1, 0, 1]);
  const counts = new Map([[0, 3], [2, 1], [3, 5]]);
  // |L| = 9: weights 9/4, 9/1, 9/2 -> normalised 1/7, 4/7, 2/7; Q = 10: floors 1, 5, 2 (8),
  // two left: to class 1 then class 2.
  assert.deepEqual([...classAllocation(predicted, counts, 9, 10)], [[0, 1], [1, 6], [2, 3]]);
  // No labeled rows: uniform weights; ties go to the smaller class.
  assert.deepEqual([...classAllocation(predicted, new Map(), 0, 4)], [[0, 2], [1, 1], [2, 1]]);
});

Deno.test("classBalancedSelect: allocation per predicted class, shortfall filled at random", () => {
  const predicted = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 2]);
  const labeled = Int32Array.from([0, 0, 0, 0, 0, 1, 1]); // class 2 is rarest
  const picks = classBalancedSelect(predicted, labeled, 6, Rng.fromSeed(3));
  assert.equal(new Set(picks).size, 6);
  // Weights 7/6, 7/3, 7/1 (normalised 1/9, 2/9, 6/9): floors 0, 1, 4 and the one left to
  // class 2. Class 2 has a single row, so 1 + 1 rows come from the allocation and 4 from the
  // remaining rows at random.
  const byClass = [0, 0, 0];
  for (const i of picks) byClass[predicted[i]]++;
  assert.equal(byClass[2], 1);
  assert.ok(byClass[1] >= 1);
  assert.deepEqual(picks, classBalancedSelect(predicted, labeled, 6, Rng.fromSeed(3)));
});
