// Per-channel partial sums of BatchNorm over pixel chunks of a channels-last [P, C] tensor.
// MODE 0 (moments of x): partial[chunk, 0, c] = chunk mean, partial[chunk, 1, c] = Σ (x − mean)²
//   (two passes over the chunk: no cancellation from Σx² − (Σx)²/n).
// MODE 1 (backward): with g' = g · act'(y) (y the layer's output, for a fused relu/relu6) and
//   x̂ = (x − mean)·invstd: partial[chunk, 0, c] = Σ g', partial[chunk, 1, c] = Σ g'·x̂.
// Invocations own 4 consecutive channels; workgroups run over channel blocks (x) and chunks (y).
// The host combines the chunks in a fixed order: deterministic.

override WG: u32 = 16u;
override MODE: u32 = 0u;
// 0 none, 1 relu, 2 relu6 (MODE 1 only).
override ACT: u32 = 0u;

struct Params {
  pixels: u32,
  channels: u32,
  chunk: u32,
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>; // [4, C]: mean, invstd, scale, shift
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// 4 consecutive elements from `at` (indices past the end are clamped: those lanes are not stored).
fn load4x(at: u32) -> vec4<f32> {
  let l = arrayLength(&x) - 1u;
  return vec4<f32>(x[min(at, l)], x[min(at + 1u, l)], x[min(at + 2u, l)], x[min(at + 3u, l)]);
}

fn load4g(at: u32) -> vec4<f32> {
  let l = arrayLength(&g) - 1u;
  return vec4<f32>(g[min(at, l)], g[min(at + 1u, l)], g[min(at + 2u, l)], g[min(at + 3u, l)]);
}

fn load4y(at: u32) -> vec4<f32> {
  let l = arrayLength(&y) - 1u;
  return vec4<f32>(y[min(at, l)], y[min(at + 1u, l)], y[min(at + 2u, l)], y[min(at + 3u, l)]);
}

fn load4s(at: u32) -> vec4<f32> {
  let l = arrayLength(&stats) - 1u;
  return vec4<f32>(
    stats[min(at, l)],
    stats[min(at + 1u, l)],
    stats[min(at + 2u, l)],
    stats[min(at + 3u, l)],
  );
}

fn act_grad(v: vec4<f32>) -> vec4<f32> {
  switch ACT {
    case 1u: { return select(vec4<f32>(0.0), vec4<f32>(1.0), v > vec4<f32>(0.0)); }
    case 2u: {
      return select(vec4<f32>(0.0), vec4<f32>(1.0), (v > vec4<f32>(0.0)) & (v < vec4<f32>(6.0)));
    }
    default: { return vec4<f32>(1.0); }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c0 = (wid.x * WG + lid) * 4u;
  let ch = params.channels;
  let first = wid.y * params.chunk;
  let end = min(first + params.chunk, params.pixels);
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  if (MODE == 0u) {
    for (var p = first; p < end; p++) { s0 += load4x(p * ch + c0); }
    s0 /= f32(end - first);
    for (var p = first; p < end; p++) {
      let d = load4x(p * ch + c0) - s0;
      s1 = fma(d, d, s1);
    }
  } else {
    let mean = load4s(c0);
    let invstd = load4s(ch + c0);
    for (var p = first; p < end; p++) {
      let at = p * ch + c0;
      var gp = load4g(at);
      if (ACT != 0u) { gp *= act_grad(load4y(at)); }
      s0 += gp;
      s1 = fma(gp, (load4x(at) - mean) * invstd, s1);
    }
  }
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + e;
    if (c < ch) {
      partial[(wid.y * 2u) * ch + c] = s0[e];
      partial[(wid.y * 2u + 1u) * ch + c] = s1[e];
    }
  }
}
