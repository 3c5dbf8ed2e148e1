/**
 * How long-running phases (teacher, training steps, pool scoring, selection) report progress.
 * The CLI supplies a terminal implementation (`cli/progress.ts`); library callers and tests use
 * `silentProgress`.
 */
export interface PhaseProgress {
  /** `n` more units done (default 1). */
  tick(n?: number): void;
  end(): void;
}

export interface Progress {
  /** Starts a phase of `total` units (e.g. "train pcoreset r2", 400, "step"). */
  phase(label: string, total: number, unit: string): PhaseProgress;
  /** A one-line message (round summaries, cache hits). */
  log(message: string): void;
}

export const silentProgress: Progress = {
  phase: () => ({ tick() {}, end() {} }),
  log() {},
};
