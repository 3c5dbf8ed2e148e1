/** Builds the dual-head student a config names. */
import { InputError } from "../../engine/errors.ts";
import type { Rng } from "../../engine/rng.ts";
import type { RunConfig } from "../config.ts";
import { MlpBackbone } from "./mlp.ts";
import { type Backbone, DualHeadStudent } from "./student.ts";

export type StudentArch = RunConfig["student"];

export function buildBackbone(arch: StudentArch, imageSize: number, rng?: Rng): Backbone {
  switch (arch) {
    case "mlp":
      return new MlpBackbone(3 * imageSize * imageSize, 256, 128, rng);
    default:
      throw new InputError(`student ${arch}: not available in this build`);
  }
}

/** A fresh student: random init from `rng` ("backbone", "heads" streams), zeros without one. */
export function buildStudent(
  arch: StudentArch,
  classes: number,
  imageSize: number,
  rng?: Rng,
): DualHeadStudent {
  const backbone = buildBackbone(arch, imageSize, rng?.stream("backbone"));
  return new DualHeadStudent(backbone, classes, rng?.stream("heads"));
}
