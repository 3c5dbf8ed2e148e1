// Index-generated tensors. arange: out[i] = i (as f32 when AS_F32). one_hot: out[b, c] =
// (labels[b] == c) as f32, so a label outside [0, classes) gives a zero row.
override WG: u32 = 256u;
override AS_F32: bool = false;

struct Params {
  n: u32,
  classes: u32,
  groups_x: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> labels: array<i32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn arange(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  out[i] = select(i, bitcast<u32>(f32(i)), AS_F32);
}

@compute @workgroup_size(WG)
fn one_hot(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let hot = labels[i / params.classes] == i32(i % params.classes);
  out[i] = select(0u, bitcast<u32>(1.0), hot);
}
