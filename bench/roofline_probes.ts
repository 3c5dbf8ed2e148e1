/**
 * The roofline's probe kernels (docs/cli.md, "bench roofline"): one pure-FMA kernel and one
 * kernel per load shape. Each invocation sums what it reads into `out[invocation]`, so no load
 * can be dropped, and each probe has a float64 reference of every invocation's sum. The data
 * are small integers, so every f32 partial sum is exact and the check is equality.
 *
 * Sizes: `workgroups` of 64 invocations, each running `iters` loop iterations; any positive
 * values (odd ones included) give a valid probe. Bandwidth is counted in lane-bytes: the bytes
 * each invocation's loads deliver to it, summed over invocations (for the streaming shapes that
 * is the bytes read from memory; a broadcast delivers one read to many lanes).
 */

export const WG = 64;
/** The texture probe's row length (texels): a power of two, so the index splits by shifts. */
export const TEXTURE_WIDTH_SHIFT = 11;
export const TEXTURE_WIDTH = 1 << TEXTURE_WIDTH_SHIFT;
/** The uniform probe's buffer: 4096 vec4 = 64 KiB, WebGPU's default uniform binding limit. */
export const UNIFORM_VEC4S = 4096;
/** Reads per invocation per staged element (workgroup memory) or per load (subgroup). */
export const REUSE = 8;

export interface ProbeSize {
  workgroups: number;
  iters: number;
}

/** What binding 1 is, and so how the data reach the kernel. */
export type InputKind = "storage" | "uniform" | "texture";

export interface Probe {
  name: string;
  /** The shape in words, for the bench table and docs/cli.md. */
  what: string;
  unit: "GFLOP/s" | "GB/s";
  input: InputKind;
  needs?: "subgroups";
  /** WGSL; its override constants are ITERS and THREADS (= workgroups · 64). */
  source: string;
  /** f32 values binding 1 holds (a texture: 4 per texel). */
  dataFloats(size: ProbeSize): number;
  /** FLOPs (ALU) or lane-bytes (loads) of one dispatch. */
  work(size: ProbeSize): number;
  /** Loop iterations that make one dispatch do `work` (at least 1). */
  itersFor(work: number, workgroups: number): number;
  /** Every invocation's expected sum (`out` has `workgroups · 64` entries, [+1: subgroup size]). */
  reference(data: Float32Array, size: ProbeSize, subgroupSize?: number): Float64Array;
}

const HEADER = `
override ITERS: u32;
override THREADS: u32;
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
`;

const threads = (s: ProbeSize) => s.workgroups * WG;

/**
 * A probe whose invocation `g` makes `readsPerIter` reads per iteration; its read `r` (counted
 * over all iterations) is the f32 or vec4 at `index(g, r)`.
 */
function loadProbe(
  name: string,
  what: string,
  input: InputKind,
  width: 1 | 4,
  readsPerIter: number,
  source: string,
  index: (g: number, i: number, size: ProbeSize) => number,
  dataFloats: (size: ProbeSize) => number,
): Probe {
  const laneBytesPerIter = 4 * width * readsPerIter;
  return {
    name,
    what,
    unit: "GB/s",
    input,
    source,
    dataFloats,
    work: (s) => threads(s) * s.iters * laneBytesPerIter,
    itersFor: (work, workgroups) =>
      Math.max(1, Math.round(work / (workgroups * WG * laneBytesPerIter))),
    reference(data, size) {
      const out = new Float64Array(threads(size));
      for (let g = 0; g < out.length; g++) {
        let s = 0;
        for (let r = 0; r < size.iters * readsPerIter; r++) {
          const at = index(g, r, size) * width;
          for (let c = 0; c < width; c++) s += data[at + c];
        }
        out[g] = s;
      }
      return out;
    },
  };
}

/** Vec4 index of the group-contiguous order: each 8-lane group walks its own run. */
const groupRow = (g: number, i: number, s: ProbeSize) =>
  Math.floor(g / 8) * 8 * s.iters + i * 8 + (g % 8);
const GROUP_ROW_WGSL = `(g / 8u) * 8u * ITERS + i * 8u + g % 8u`;

const vec4Sum = (v: string) => `${v}.x + ${v}.y + ${v}.z + ${v}.w`;

const ALU: Probe = {
  name: "alu",
  what: "pure FMA, no loads (8 independent chains per invocation)",
  unit: "GFLOP/s",
  input: "uniform",
  // p = (1, 1, 0, 0) at run time: the compiler cannot fold fma(a, 1, 1), and each chain counts
  // up by one per iteration, exactly.
  source: HEADER + `
@group(0) @binding(1) var<uniform> p: vec4<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let x = f32(gid.x & 255u);
  var a0 = x; var a1 = x + 1.0; var a2 = x + 2.0; var a3 = x + 3.0;
  var a4 = x + 4.0; var a5 = x + 5.0; var a6 = x + 6.0; var a7 = x + 7.0;
  for (var i = 0u; i < ITERS; i++) {
    a0 = fma(a0, p.x, p.y); a1 = fma(a1, p.x, p.y); a2 = fma(a2, p.x, p.y); a3 = fma(a3, p.x, p.y);
    a4 = fma(a4, p.x, p.y); a5 = fma(a5, p.x, p.y); a6 = fma(a6, p.x, p.y); a7 = fma(a7, p.x, p.y);
  }
  out[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}`,
  dataFloats: () => 4,
  work: (s) => threads(s) * s.iters * 16,
  itersFor: (work, workgroups) => Math.max(1, Math.round(work / (workgroups * WG * 16))),
  reference(data, size) {
    const [m, a] = [data[0], data[1]];
    const out = new Float64Array(threads(size));
    for (let g = 0; g < out.length; g++) {
      let s = 0;
      for (let c = 0; c < 8; c++) {
        let v = (g & 255) + c;
        for (let i = 0; i < size.iters; i++) v = v * m + a;
        s += v;
      }
      out[g] = s;
    }
    return out;
  },
};

const STORAGE_F32 = loadProbe(
  "storage-f32",
  "storage f32, lane-consecutive (invocation g reads i·THREADS + g)",
  "storage",
  1,
  1,
  HEADER + `
@group(0) @binding(1) var<storage, read> data: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var s = 0.0;
  for (var i = 0u; i < ITERS; i++) { s += data[i * THREADS + gid.x]; }
  out[gid.x] = s;
}`,
  (g, i, s) => i * threads(s) + g,
  (s) => threads(s) * s.iters,
);

/** A vec4 storage probe reading `data[<index>]` with `g` and `i` in scope. */
function vec4Source(index: string): string {
  return HEADER + `
@group(0) @binding(1) var<storage, read> data: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = gid.x;
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < ITERS; i++) { s += data[${index}]; }
  out[g] = ${vec4Sum("s")};
}`;
}

const STORAGE_VEC4 = loadProbe(
  "storage-vec4",
  "storage vec4, lane-consecutive",
  "storage",
  4,
  1,
  vec4Source("i * THREADS + g"),
  (g, i, s) => i * threads(s) + g,
  (s) => 4 * threads(s) * s.iters,
);

const LANE_ROWS = loadProbe(
  "lane-rows",
  "storage vec4, per-lane contiguous rows (invocation g reads its own run g·ITERS + i)",
  "storage",
  4,
  1,
  vec4Source("g * ITERS + i"),
  (g, i, s) => g * s.iters + i,
  (s) => 4 * threads(s) * s.iters,
);

const GROUP_ROWS = loadProbe(
  "group-rows",
  "storage vec4, group-contiguous (each 8-lane group reads its own contiguous run)",
  "storage",
  4,
  1,
  vec4Source(GROUP_ROW_WGSL),
  groupRow,
  (s) => 4 * threads(s) * s.iters,
);

const BROADCAST = loadProbe(
  "broadcast",
  "storage f32, uniform address (every lane of a workgroup reads the same float)",
  "storage",
  1,
  1,
  HEADER + `
@group(0) @binding(1) var<storage, read> data: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  var s = 0.0;
  for (var i = 0u; i < ITERS; i++) { s += data[wid.x * ITERS + i]; }
  out[gid.x] = s;
}`,
  (g, i, s) => Math.floor(g / WG) * s.iters + i,
  (s) => s.workgroups * s.iters,
);

const UNIFORM = loadProbe(
  "uniform-buffer",
  `uniform buffer vec4, lane-varying index over ${UNIFORM_VEC4S} vec4 (64 KiB)`,
  "uniform",
  4,
  1,
  HEADER + `
@group(0) @binding(1) var<uniform> data: array<vec4<f32>, ${UNIFORM_VEC4S}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = gid.x;
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < ITERS; i++) { s += data[(g + i * ${WG}u) & ${UNIFORM_VEC4S - 1}u]; }
  out[g] = ${vec4Sum("s")};
}`,
  (g, i) => (g + i * WG) & (UNIFORM_VEC4S - 1),
  () => 4 * UNIFORM_VEC4S,
);

const TEXTURE = loadProbe(
  "texture",
  `textureLoad from an rgba32float texture (${TEXTURE_WIDTH} texels wide), group-contiguous order`,
  "texture",
  4,
  1,
  HEADER + `
@group(0) @binding(1) var data: texture_2d<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = gid.x;
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < ITERS; i++) {
    let t = ${GROUP_ROW_WGSL};
    s += textureLoad(data, vec2<u32>(t & ${TEXTURE_WIDTH - 1}u, t >> ${TEXTURE_WIDTH_SHIFT}u), 0);
  }
  out[g] = ${vec4Sum("s")};
}`,
  groupRow,
  (s) => 4 * TEXTURE_WIDTH * Math.ceil(threads(s) * s.iters / TEXTURE_WIDTH),
);

const STAGING = loadProbe(
  "workgroup-staging",
  `workgroup memory: 64 vec4 staged per step (one per lane, lane-consecutive), then each lane ` +
    `reads ${REUSE} of them`,
  "storage",
  4,
  REUSE,
  HEADER + `
@group(0) @binding(1) var<storage, read> data: array<vec4<f32>>;
var<workgroup> tile: array<vec4<f32>, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) l: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
  var s = vec4<f32>(0.0);
  // The loop bound from the buffer's length (= THREADS · ITERS), not the constant: unrolled
  // around its barriers, this kernel took Dawn's llvmpipe minutes to compile.
  let iters = arrayLength(&data) / THREADS;
  for (var i = 0u; i < iters; i++) {
    tile[l] = data[(wid.x * iters + i) * ${WG}u + l];
    workgroupBarrier();
    for (var j = 0u; j < ${REUSE}u; j++) { s += tile[(l + j * 8u) & ${WG - 1}u]; }
    workgroupBarrier();
  }
  out[gid.x] = ${vec4Sum("s")};
}`,
  // Read j of step i: the staged element (l + 8j) mod 64 of the workgroup's step-i block.
  (g, r, s) => {
    const [i, j, l] = [Math.floor(r / REUSE), r % REUSE, g % WG];
    return (Math.floor(g / WG) * s.iters + i) * WG + ((l + j * 8) & (WG - 1));
  },
  (s) => 4 * threads(s) * s.iters,
);

const SUBGROUP: Probe = {
  ...loadProbe(
    "subgroup-broadcast",
    `storage vec4 in group-contiguous order, then subgroupBroadcast of lanes 0..${REUSE - 1}`,
    "storage",
    4,
    REUSE,
    "",
    groupRow,
    (s) => 4 * threads(s) * s.iters,
  ),
  needs: "subgroups",
  // out[THREADS] = the subgroup size, which the reference needs (lane k of my subgroup).
  source: "enable subgroups;\n" + HEADER + `
@group(0) @binding(1) var<storage, read> data: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_size) sg: u32) {
  let g = gid.x;
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < ITERS; i++) {
    let v = data[${GROUP_ROW_WGSL}];
    s += subgroupBroadcast(v, 0u) + subgroupBroadcast(v, 1u) + subgroupBroadcast(v, 2u) +
      subgroupBroadcast(v, 3u) + subgroupBroadcast(v, 4u) + subgroupBroadcast(v, 5u) +
      subgroupBroadcast(v, 6u) + subgroupBroadcast(v, 7u);
  }
  out[g] = ${vec4Sum("s")};
  if (g == 0u) { out[THREADS] = f32(sg); }
}`,
  reference(data, size, subgroupSize) {
    if (!subgroupSize || subgroupSize < REUSE || WG % subgroupSize !== 0) {
      throw new Error(
        `subgroup-broadcast probe: subgroup size ${subgroupSize} (needs >= ${REUSE}, dividing ${WG})`,
      );
    }
    const out = new Float64Array(threads(size));
    for (let g = 0; g < out.length; g++) {
      // Subgroups are consecutive runs of a 1-D workgroup's invocations (as Mesa and Dawn lay
      // them out); a different layout fails this check rather than passing silently.
      const first = g - (g % subgroupSize);
      let s = 0;
      for (let i = 0; i < size.iters; i++) {
        for (let k = 0; k < REUSE; k++) {
          const at = 4 * groupRow(first + k, i, size);
          s += data[at] + data[at + 1] + data[at + 2] + data[at + 3];
        }
      }
      out[g] = s;
    }
    return out;
  },
};

/** Every probe, in the order of the bench table. */
export const PROBES: readonly Probe[] = [
  ALU,
  STORAGE_F32,
  STORAGE_VEC4,
  LANE_ROWS,
  GROUP_ROWS,
  TEXTURE,
  BROADCAST,
  UNIFORM,
  STAGING,
  SUBGROUP,
];

/** The shapes that stream distinct data (each byte read once): the memory roof's candidates. */
export const STREAMING = ["storage-f32", "storage-vec4", "lane-rows", "group-rows", "texture"];

/** The probe input: the ALU's (1, 1, 0, 0), else small integers in [-8, 8) from a fixed LCG. */
export function probeData(probe: Probe, size: ProbeSize): Float32Array<ArrayBuffer> {
  if (probe.name === "alu") return Float32Array.of(1, 1, 0, 0);
  const out = new Float32Array(probe.dataFloats(size));
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 28) - 8;
  }
  return out;
}
