// index_select: out[o, k, j] = x[o, index[k], j] (x seen as [outer, cols, inner]); an index
// outside [0, cols) gives a zero word. 32-bit words of any dtype.
override WG: u32 = 256u;

struct Params {
  n: u32, // outer · len · inner
  len: u32, // number of indices
  inner: u32,
  groups_x: u32,
  cols: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> index: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let j = i % params.inner;
  let k = (i / params.inner) % params.len;
  let o = i / (params.inner * params.len);
  let c = index[k];
  if (c < 0 || u32(c) >= params.cols) {
    out[i] = 0u;
    return;
  }
  out[i] = x[(o * params.cols + u32(c)) * params.inner + j];
}
