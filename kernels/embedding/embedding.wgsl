// Embedding lookup: out[n, d] = weight[ids[n], d]. An id outside [0, V) gives a zero row (the
// GPU cannot raise; callers validate ids on the host, as the tokenizer does).
override WG: u32 = 256u;

struct Params {
  n: u32, // ids × dim output elements
  dim: u32,
  vocab: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let id = ids[i / params.dim];
  var v = 0.0;
  if (id >= 0 && u32(id) < params.vocab) { v = weight[u32(id) * params.dim + i % params.dim]; }
  out[i] = v;
}
