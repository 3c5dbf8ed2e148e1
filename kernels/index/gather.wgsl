// index_select: out[o, k, j] = x[o, index[k], j] (x seen as [outer, cols, inner]); an index
// outside [0, cols) gives a zero word. 32-bit words of any dtype.
//   rows      y (and z) = o·len + k, x strides over the inner run: no division per element;
//   elements  one invocation per word (for short inner runs).
override WG: u32 = 256u;

struct Params {
  n: u32, // outer · len · inner
  len: u32, // number of indices
  inner: u32,
  cols: u32,
  groups_x: u32,
  groups_y: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

// Where row (o, k) starts in x, or NONE for an index outside the axis.
const NONE: u32 = 0xffffffffu;

fn source_row(ok: u32) -> u32 {
  let c = index[ok % params.len];
  if (c < 0 || u32(c) >= params.cols) { return NONE; }
  return ((ok / params.len) * params.cols + u32(c)) * params.inner;
}

@compute @workgroup_size(WG)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ok = gid.y + gid.z * params.groups_y;
  if (ok * params.inner >= params.n) { return; }
  let from_row = source_row(ok);
  let to_row = ok * params.inner;
  for (var j = gid.x; j < params.inner; j += params.groups_x * WG) {
    // A branch, not select(): x[NONE + j] must never be read (no robustness checks).
    if (from_row == NONE) {
      out[to_row + j] = 0u;
    } else {
      out[to_row + j] = x[from_row + j];
    }
  }
}

@compute @workgroup_size(WG)
fn elements(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let from_row = source_row(i / params.inner);
  if (from_row == NONE) {
    out[i] = 0u;
  } else {
    out[i] = x[from_row + i % params.inner];
  }
}
