// Folds an evaluation-mode BatchNorm into the convolution before it, as PyTorch's
// fuse_conv_bn_eval: with invstd = 1/√(running_var + eps) and s = γ·invstd,
//   W'[co, r, t] = W[co, r, t]·s[co],   b'[co] = (b[co] − running_mean[co])·invstd·γ + β.
// Without a BatchNorm (HAS_BN false) s = 1 and b' = b: only the layout changes.
// PACKED writes W' as [tap][Cin][cout_pad] with zeros past Cout: the layout conv2d_packed.wgsl
// reads, one vec4 of 4 output channels per invocation; otherwise PyTorch's [Cout, Cin, KH, KW].
// Grid: x = output channel (so PACKED writes run along x), y = input channel; each invocation
// reads its KH·KW contiguous taps (a transpose reading every weight once per cache line).

override WG: u32 = 64u;
override HAS_BN: bool = true;
override HAS_AFFINE: bool = true;
override HAS_BIAS: bool = false;
override PACKED: bool = false;

struct Params {
  cout: u32,
  cin: u32, // per group (the weight's dim 1)
  taps: u32, // KH · KW
  cout_pad: u32, // PACKED: Cout rounded up to a multiple of 4
  eps: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read> conv_bias: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read> running_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_w: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_b: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let co = gid.x;
  let r = gid.y;
  let width = select(params.cout, params.cout_pad, PACKED);
  if (co >= width) { return; }
  let inside = co < params.cout;
  let c = min(co, params.cout - 1u);
  var s = 1.0;
  var b = 0.0;
  if (HAS_BIAS) { b = conv_bias[c]; }
  if (HAS_BN) {
    let invstd = 1.0 / sqrt(running_var[c] + params.eps);
    let g = select(1.0, gamma[c], HAS_AFFINE);
    s = g * invstd;
    b = (b - running_mean[c]) * invstd * g;
    if (HAS_AFFINE) { b += beta[c]; }
  }
  let first = (c * params.cin + r) * params.taps;
  for (var t = 0u; t < params.taps; t++) {
    let v = w[first + t] * s;
    if (PACKED) {
      out_w[(t * params.cin + r) * params.cout_pad + co] = select(0.0, v, inside);
    } else {
      out_w[first + t] = v;
    }
  }
  if (r == 0u && inside) { out_b[co] = b; }
}
