// Additive causal mask [L, S]: 0 where key j may be seen from query i (j <= i, top-left
// aligned as torch's is_causal), −inf above the diagonal.
override WG: u32 = 256u;

struct Params {
  n: u32,
  keys: u32,
  groups_x: u32,
  neg_inf_bits: u32, // WGSL constants cannot be infinite
}

@group(0) @binding(0) var<storage, read_write> mask: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let query = i / params.keys;
  let key = i % params.keys;
  mask[i] = select(0.0, bitcast<f32>(params.neg_inf_bits), key > query);
}
