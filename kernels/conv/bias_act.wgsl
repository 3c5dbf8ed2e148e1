// The convolution epilogue as its own pass over a channels-last [P, C] tensor:
// y = act(x + bias[c] + residual), bias and residual optional. (Fused into the GEMM loop it
// multiplied the compile time of every variant on llvmpipe: seconds → minutes.)
// One invocation per 4 consecutive channels of one pixel.

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override HAS_RESIDUAL: bool = false;
// 0 none, 1 relu, 2 relu6.
override ACT: u32 = 0u;

struct Params {
  channels: u32,
  blocks: u32, // ceil(C / 4)
  groups_x: u32,
  pixel_base: u32, // first pixel of this dispatch (each covers < 2^23 invocations)
  chunk_pixels: u32, // pixels of this dispatch
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> residual: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// floor(a / b) without integer division (CPU adapters run it one lane at a time): a float
// quotient, corrected twice; exact for a < 2^24.
fn div_u(a: u32, b: u32) -> u32 {
  var q = u32(f32(a) / f32(b));
  for (var k = 0; k < 2; k++) {
    if (q * b > a) { q -= 1u; } else if ((q + 1u) * b <= a) { q += 1u; }
  }
  return q;
}

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
  let q = div_u(i, params.blocks);
  if (q >= params.chunk_pixels) { return; }
  let p = params.pixel_base + q;
  let ch = params.channels;
  let c0 = (i - q * params.blocks) * 4u;
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + e;
    if (c >= ch) { break; }
    let at = p * ch + c;
    var v = x[at];
    if (HAS_BIAS) { v += bias[c]; }
    if (HAS_RESIDUAL) { v += residual[at]; }
    y[at] = activate(v);
  }
}
