// Copies a block along one axis between two tensors seen as [outer, cols, inner]:
// dst[o, dst_start + k, j] = src[o, src_start + k, j] for k < len. Slicing reads an offset
// block; concatenation and slice's backward write one. 32-bit words of any dtype.
// For each o the block is `chunk` = len · inner contiguous words on both sides:
//   blocks    y (and z) = o, x strides over the chunk: no division per element;
//   elements  one invocation per word (for small chunks, where a workgroup per o idles).
override WG: u32 = 256u;

struct Params {
  chunk: u32, // len · inner
  outer: u32,
  inner: u32,
  groups_x: u32,
  groups_y: u32,
  n: u32, // outer · chunk
  _p0: u32,
  _p1: u32,
  src_cols: u32,
  src_start: u32,
  dst_cols: u32,
  dst_start: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

fn src_base(o: u32) -> u32 {
  return (o * params.src_cols + params.src_start) * params.inner;
}

fn dst_base(o: u32) -> u32 {
  return (o * params.dst_cols + params.dst_start) * params.inner;
}

@compute @workgroup_size(WG)
fn blocks(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o = gid.y + gid.z * params.groups_y;
  if (o >= params.outer) { return; }
  let s = src_base(o);
  let d = dst_base(o);
  for (var i = gid.x; i < params.chunk; i += params.groups_x * WG) {
    dst[d + i] = src[s + i];
  }
}

@compute @workgroup_size(WG)
fn elements(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let o = i / params.chunk;
  let k = i % params.chunk;
  dst[dst_base(o) + k] = src[src_base(o) + k];
}
