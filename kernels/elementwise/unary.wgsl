// out[i] = OP(x[i]); alpha/beta parametrise affine, clamp, pow and leaky ops.
override OP: u32 = 0u;
override WG: u32 = 256u;

struct Params {
  n: u32,
  groups_x: u32,
  alpha: f32,
  beta: f32,
}

// NaN test on the bits: compilers may fold `v != v` to false under finite-math assumptions.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const INV_SQRT2: f32 = 0.70710678118654752;

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
  // Stable on both tails: exp of a non-positive number only.
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

fn apply(v: f32) -> f32 {
  switch OP {
    case 0u: { return -v; }
    case 1u: { return exp(v); }
    case 2u: { return log(v); }
    case 3u: { return sqrt(v); }
    case 4u: { return inverseSqrt(v); }
    case 5u: { return select(0.0, v, v > 0.0) + select(0.0, v, is_nan(v)); }
    case 6u: { return select(clamp(v, 0.0, 6.0), v, is_nan(v)); }
    case 7u: { return 0.5 * v * (1.0 + erf_(v * INV_SQRT2)); }
    case 8u: { return v * sigmoid_(1.702 * v); }
    case 9u: { return sigmoid_(v); }
    case 10u: { return tanh(clamp(v, -15.0, 15.0)); } // tanh(15) == 1 in f32; WGSL tanh NaNs past ~88
    case 11u: { return abs(v); }
    case 12u: { return v * params.alpha + params.beta; }
    case 13u: { return select(clamp(v, params.alpha, params.beta), v, is_nan(v)); }
    case 14u: { return pow(v, params.alpha); }
    case 15u: { return v * v; }
    case 16u: { return 1.0 / v; }
    case 17u: { return params.alpha; } // fill
    case 18u: { return 0.5 * (1.0 + erf_(v * INV_SQRT2)); } // standard normal CDF
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  out[i] = apply(x[i]);
}
