// Copies a block along one axis between two tensors seen as [outer, cols, inner]:
// dst[o, dst_start + k, j] = src[o, src_start + k, j] for k < len. Slicing reads an offset
// block; concatenation and slice's backward write one. 32-bit words of any dtype.
override WG: u32 = 256u;

struct Params {
  n: u32, // outer · len · inner
  len: u32,
  inner: u32,
  groups_x: u32,
  src_cols: u32,
  src_start: u32,
  dst_cols: u32,
  dst_start: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let j = i % params.inner;
  let k = (i / params.inner) % params.len;
  let o = i / (params.inner * params.len);
  let at_src = (o * params.src_cols + params.src_start + k) * params.inner + j;
  let to = (o * params.dst_cols + params.dst_start + k) * params.inner + j;
  dst[to] = src[at_src];
}
