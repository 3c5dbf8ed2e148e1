/**
 * The randomness the data pipeline draws from. `engine/rng.ts`'s `Rng` fits it; tests may pass a
 * scripted source to replay another library's draws.
 */
import type { Rng } from "../../engine/rng.ts";

export type Random = Pick<Rng, "uniform" | "int">;

/** Fisher–Yates, front to back (the same order as `Rng.shuffle`), in place. */
export function shuffle<T extends { length: number; [i: number]: number }>(rng: Random, a: T): T {
  for (let i = 0; i < a.length - 1; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
