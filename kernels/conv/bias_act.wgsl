// The convolution epilogue as its own pass over a channels-last [P, C] tensor:
// y = act(x + bias[c] + residual), bias and residual optional. (Fused into the GEMM loop it
// multiplied the compile time of every variant on llvmpipe: seconds → minutes.)
// Invocations run along pixels and each handles 4 consecutive channels; the workgroup's channel
// block is uniform, so bias loads are broadcasts (cheap on CPU adapters).

override WG: u32 = 64u;
override HAS_BIAS: bool = false;
override HAS_RESIDUAL: bool = false;
// 0 none, 1 relu, 2 relu6.
override ACT: u32 = 0u;

struct Params {
  pixels: u32, // P (all dispatches)
  channels: u32,
  pixel_base: u32, // first pixel of this dispatch
  chunk_pixels: u32, // pixels of this dispatch (≤ 65535·WG)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
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
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  if (gid.x >= params.chunk_pixels) { return; }
  let p = params.pixel_base + gid.x;
  let ch = params.channels;
  let c0 = wid.y * 4u;
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
