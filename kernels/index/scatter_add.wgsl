// scatter_add along an axis, deterministic: out[o, index[k], j] += src[o, k, j], with `out`
// already holding a copy of the base. The sources of one destination are summed in index
// order: `links` finds, for each k, whether it is the first k with its index (the leader)
// and the next k with the same index; each leader then walks its chain. No float atomics.
// Indices outside [0, cols) are ignored.
override WG: u32 = 256u;

const NONE: u32 = 0xffffffffu;

struct Params {
  n: u32, // links: len; sum: outer · len · inner
  len: u32,
  inner: u32,
  groups_x: u32,
  cols: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> index: array<i32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
// links[2k] = 1 when k leads its index, links[2k + 1] = the next k with the same index.
@group(0) @binding(2) var<storage, read_write> chain: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn links(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x + gid.y * params.groups_x * WG;
  if (k >= params.len) { return; }
  let c = index[k];
  var lead = select(1u, 0u, c < 0 || u32(c) >= params.cols);
  for (var q = 0u; q < k && lead == 1u; q++) {
    if (index[q] == c) { lead = 0u; }
  }
  var next = NONE;
  for (var q = k + 1u; q < params.len; q++) {
    if (index[q] == c) {
      next = q;
      break;
    }
  }
  chain[2u * k] = lead;
  chain[2u * k + 1u] = next;
}

@compute @workgroup_size(WG)
fn sum(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let j = i % params.inner;
  let k = (i / params.inner) % params.len;
  let o = i / (params.inner * params.len);
  if (chain[2u * k] == 0u) { return; }
  let to = (o * params.cols + u32(index[k])) * params.inner + j;
  var acc = out[to];
  var q = k;
  loop {
    acc += src[(o * params.len + q) * params.inner + j];
    q = chain[2u * q + 1u];
    if (q == NONE) { break; }
  }
  out[to] = acc;
}
