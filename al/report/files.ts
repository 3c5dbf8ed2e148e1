/**
 * Moved to engine/files.ts (shared by every layer). This re-export keeps al/loop/outdir.ts and
 * al/loop/checkpoint.ts compiling until they import from there; then this file goes.
 */
export { writeFileAtomic } from "../../engine/files.ts";
