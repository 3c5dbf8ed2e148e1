// C[b] = act(alpha·op(A[b])·op(B[b]) + bias + residual[b]) for one batch entry per workgroup z.
// op(A) is M×K (A stored [M,K], or [K,M] with TRANS_A); op(B) is K×N (B stored [K,N], or [N,K]
// with TRANS_B). Each workgroup computes a BM×BN tile of C (BM = WG_Y·TM, BN = WG_X·4) from
// workgroup-shared BK-deep slices of A and B; each thread holds a TM×4 micro-tile in vec4
// accumulators. Batch dims (up to 4, innermost last) broadcast through per-operand strides (0).
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override HAS_RESIDUAL: bool = false;
// 0 none, 1 relu, 2 relu6, 3 gelu (erf), 4 quick_gelu.
override ACT: u32 = 0u;

const TM: u32 = 4u;
// Derived tile sizes (never set by the host).
override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * 4u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  alpha: f32,
  batch_offset: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
  batch_shape: vec4<u32>,
  a_strides: vec4<u32>,
  b_strides: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> tile_a: array<f32, BK * BM>; // [BK][BM]
var<workgroup> tile_b: array<f32, BK * BN>; // [BK][BN]

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

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

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, v, v > 0.0 || is_nan(v)); }
    case 2u: { return select(clamp(v, 0.0, 6.0), v, is_nan(v)); }
    case 3u: { return 0.5 * v * (1.0 + erf_(v * 0.70710678118654752)); }
    case 4u: { return v * sigmoid_(1.702 * v); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let m = params.m;
  let n = params.n;
  let k = params.k;
  let batch = wg.z + params.batch_offset;
  var rem = batch;
  var a_base = 0u;
  var b_base = 0u;
  for (var d = 3; d >= 0; d--) {
    let i = rem % params.batch_shape[d];
    rem = rem / params.batch_shape[d];
    a_base += i * params.a_strides[d];
    b_base += i * params.b_strides[d];
  }
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  let threads = WG_X * WG_Y;

  var acc: array<vec4<f32>, TM>;
  for (var k0 = 0u; k0 < k; k0 += BK) {
    // Element e of a tile is read along the operand's contiguous dimension.
    for (var e = li; e < BK * BM; e += threads) {
      var kk: u32;
      var mm: u32;
      if (TRANS_A) {
        kk = e / BM;
        mm = e % BM;
      } else {
        mm = e / BK;
        kk = e % BK;
      }
      let gr = row0 + mm;
      let gk = k0 + kk;
      var v = 0.0;
      if (gr < m && gk < k) {
        v = a[a_base + select(gr * k + gk, gk * m + gr, TRANS_A)];
      }
      tile_a[kk * BM + mm] = v;
    }
    for (var e = li; e < BK * BN; e += threads) {
      var kk: u32;
      var nn: u32;
      if (TRANS_B) {
        nn = e / BK;
        kk = e % BK;
      } else {
        kk = e / BN;
        nn = e % BN;
      }
      let gc = col0 + nn;
      let gk = k0 + kk;
      var v = 0.0;
      if (gc < n && gk < k) {
        v = b[b_base + select(gk * n + gc, gc * k + gk, TRANS_B)];
      }
      tile_b[kk * BN + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let bo = kk * BN + lid.x * 4u;
      let bv = vec4<f32>(tile_b[bo], tile_b[bo + 1u], tile_b[bo + 2u], tile_b[bo + 3u]);
      for (var i = 0u; i < TM; i++) {
        acc[i] = fma(vec4<f32>(tile_a[kk * BM + lid.y * TM + i]), bv, acc[i]);
      }
    }
    workgroupBarrier();
  }

  let c_base = batch * m * n;
  for (var i = 0u; i < TM; i++) {
    let r = row0 + lid.y * TM + i;
    if (r >= m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x * 4u + j;
      if (col >= n) { break; }
      var v = params.alpha * acc[i][j];
      if (HAS_BIAS) { v += bias[col]; }
      let o = c_base + r * n + col;
      if (HAS_RESIDUAL) { v += residual[o]; }
      c[o] = activate(v);
    }
  }
}
