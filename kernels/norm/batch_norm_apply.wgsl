// BatchNorm forward on a channels-last [P, C] tensor with the per-channel affine map from
// batch_norm_finalize: y = act(x·scale[c] + shift[c] + residual), residual and act optional.
// One invocation per 4 consecutive channels of one pixel.

override WG: u32 = 64u;
override HAS_RESIDUAL: bool = false;
// 0 none, 1 relu, 2 relu6.
override ACT: u32 = 0u;

struct Params {
  pixels: u32,
  channels: u32,
  blocks: u32, // ceil(C / 4)
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> stats: array<f32>; // [4, C]: mean, invstd, scale, shift
@group(0) @binding(2) var<storage, read> residual: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return clamp(v, 0.0, 6.0); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.pixels * params.blocks) { return; }
  let ch = params.channels;
  let p = i / params.blocks;
  let c0 = (i % params.blocks) * 4u;
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + e;
    if (c >= ch) { break; }
    let at = p * ch + c;
    var v = fma(x[at], stats[2u * ch + c], stats[3u * ch + c]);
    if (HAS_RESIDUAL) { v += residual[at]; }
    y[at] = activate(v);
  }
}
