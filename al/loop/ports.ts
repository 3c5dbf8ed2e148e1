/**
 * Moved to al/ports.ts (al/train and al/teachers import the ports without reaching into the
 * loop). This re-export keeps al/loop/checkpoint.ts compiling until it imports from there.
 */
export type { Student } from "../ports.ts";
