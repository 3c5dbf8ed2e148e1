// BatchNorm input gradient (training mode, batch statistics) on a channels-last [P, C] tensor:
// with g' = g · act'(y) and x̂ = (x − mean)·invstd,
// dx = (g' − Σg'/P − x̂·Σ(g'x̂)/P) · invstd · weight[c]; with RESIDUAL_GRAD also dres = g'
// (the gradient of a residual added before the activation). Without BATCH_STATS (evaluation
// mode: the statistics are constants) dx = g' · invstd · weight[c].
// Invocations run along pixels and each handles 4 consecutive channels; the workgroup's channel
// block is uniform, so the per-channel values are broadcast loads (cheap on CPU adapters).

override WG: u32 = 64u;
override RESIDUAL_GRAD: bool = false;
override HAS_AFFINE: bool = true;
override BATCH_STATS: bool = true;
// 0 none, 1 relu, 2 relu6.
override ACT: u32 = 0u;

struct Params {
  pixels: u32, // P (all dispatches)
  channels: u32,
  pixel_base: u32, // first pixel of this dispatch
  chunk_pixels: u32, // pixels of this dispatch (≤ 65535·WG)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>; // [4, C]: mean, invstd, scale, shift
@group(0) @binding(4) var<storage, read> sums: array<f32>; // [2, C]: Σg', Σg'·x̂
@group(0) @binding(5) var<storage, read> weight: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dres: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

fn act_grad(v: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    case 2u: { return select(0.0, 1.0, v > 0.0 && v < 6.0); }
    default: { return 1.0; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  if (gid.x >= params.chunk_pixels) { return; }
  let p = params.pixel_base + gid.x;
  let ch = params.channels;
  let c0 = wid.y * 4u;
  let inv_n = 1.0 / f32(params.pixels);
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + e;
    if (c >= ch) { break; }
    let at = p * ch + c;
    var gp = g[at];
    if (ACT != 0u) { gp *= act_grad(y[at]); }
    let invstd = stats[ch + c];
    let xhat = (x[at] - stats[c]) * invstd;
    var k = invstd;
    if (HAS_AFFINE) { k *= weight[c]; }
    if (BATCH_STATS) {
      dx[at] = (gp - sums[c] * inv_n - xhat * sums[ch + c] * inv_n) * k;
    } else {
      dx[at] = gp * k;
    }
    if (RESIDUAL_GRAD) { dres[at] = gp; }
  }
}
