// dz = g · act'(z) for the GEMM's fused activations. For relu and relu6, `x` is the op's output
// (the mask needs no pre-activation); for gelu and quick_gelu it is the pre-activation z.
override ACT: u32 = 1u;
override WG: u32 = 256u;

struct Params {
  n: u32,
  groups_x: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// erf with |error| < 1.2e-7 (Numerical Recipes erfc Chebyshev fit), as WGSL has no erf.
fn erf_(v: f32) -> f32 {
  let z = abs(v);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, v >= 0.0);
}

fn sigmoid_(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

fn derivative(v: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    case 2u: { return select(0.0, 1.0, v > 0.0 && v < 6.0); }
    // d/dz zΦ(z) = Φ(z) + zφ(z)
    case 3u: {
      return 0.5 * (1.0 + erf_(v * 0.70710678118654752)) +
        v * 0.3989422804014327 * exp(-0.5 * v * v);
    }
    // d/dz zσ(kz) = σ(kz) + kzσ(kz)(1 − σ(kz))
    case 4u: {
      let s = sigmoid_(1.702 * v);
      return s + 1.702 * v * s * (1.0 - s);
    }
    default: { return 1.0; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  out[i] = g[i] * derivative(x[i]);
}
