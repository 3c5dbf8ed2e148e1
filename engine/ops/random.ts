/**
 * Random bits drawn on the GPU from the run's one generator: the same Philox4x32-10 sequence as
 * `Rng` on the host (engine/rng.ts), so a kernel's random numbers follow from the seed too.
 */
import { engine } from "../context.ts";
import { empty, type Tensor } from "../tensor.ts";
import { type Rng, type U32x2, type U32x4 } from "../rng.ts";
import { philoxBlocksSpec } from "../../kernels/random/philox.ts";
import { grid1d } from "./grid.ts";

const WG = 64;
const TWO_32 = 2 ** 32;
const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v < TWO_32;

/**
 * u32 [blocks, 4]: row i is `philox4x32(vec4(counter[0] + i, counter[1..3]), key)`. The range may
 * not carry out of word 0 (the kernel adds i to word 0 only).
 */
export function philoxBlocks(key: U32x2, counter: U32x4, blocks: number): Tensor {
  if (key.length !== 2 || !key.every(isU32) || counter.length !== 4 || !counter.every(isU32)) {
    throw new Error(`philoxBlocks: key [${key}] and counter [${counter}] must be uint32 words`);
  }
  if (!Number.isInteger(blocks) || blocks < 0 || counter[0] + blocks > TWO_32) {
    throw new Error(
      `philoxBlocks: ${blocks} blocks from counter word ${counter[0]} would carry out of word 0`,
    );
  }
  const out = empty([blocks, 4], "u32");
  if (blocks === 0) return out;
  const { workgroups, groupsX } = grid1d(blocks, WG);
  engine().dispatch(philoxBlocksSpec, {
    buffers: { out: out.buffer },
    uniforms: { counter, key, blocks, groups_x: groupsX },
    overrides: { WG },
    workgroups,
    label: "philox_blocks",
  });
  return out;
}

/** `blocks` fresh Philox blocks (u32 [blocks, 4]) from `rng`, which continues after them. */
export function randomBits(rng: Rng, blocks: number): Tensor {
  return philoxBlocks(rng.key, rng.reserveBlocks(blocks), blocks);
}
