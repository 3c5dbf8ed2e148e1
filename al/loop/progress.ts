/**
 * Moved to al/progress.ts. This re-export keeps tests/al/loop/fault_device_test.ts compiling
 * until it imports from there.
 */
export type { PhaseProgress, Progress } from "../progress.ts";
