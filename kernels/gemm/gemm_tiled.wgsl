// C[b] = act(alpha·op(A[b])·op(B[b]) + bias + residual[b]) for one batch entry per workgroup z.
// op(A) is M×K (A stored [M,K], or [K,M] with TRANS_A); op(B) is K×N (B stored [K,N], or [N,K]
// with TRANS_B). Batch dims (up to 4, innermost last) broadcast through per-operand strides (0).
//
// A workgroup computes a BM×BN tile of C (BM = WG_Y·TM, BN = WG_X·4) from BK-deep slices of A
// and B staged in workgroup memory, both K-contiguous as vec4 ([row][k/4]), so the inner loop
// reads whole vec4s; each thread keeps a TM×4 micro-tile in vec4 accumulators (unrolled by hand:
// llvmpipe's compiler does not unroll override-bounded loops). For GPUs; on llvmpipe gemm.wgsl
// is about twice as fast.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
// Rows per thread (at most 8); each thread computes 4 columns.
override TM: u32 = 8u;
// K depth of a staged slice, a multiple of 4.
override BK: u32 = 32u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;

// Derived sizes (never set by the host). Rows of a staged tile are padded by one vec4 so that
// threads reading different rows hit different banks on GPUs.
override BM: u32 = WG_Y * TM;
override BN: u32 = WG_X * 4u;
override BK4: u32 = BK / 4u;
override ROW: u32 = BK4 + 1u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  alpha: f32,
  batch_offset: u32,
  // The epilogue is O(M·N): runtime flags keep the number of pipelines small.
  // bit 0: add bias[col]; bit 1: add residual[row, col].
  epilogue: u32,
  // 0 none, 1 relu, 2 relu6, 3 gelu (erf), 4 quick_gelu.
  act: u32,
  _pad: u32,
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

var<workgroup> tile_a: array<vec4<f32>, BM * ROW>; // [m][k/4]
var<workgroup> tile_b: array<vec4<f32>, BN * ROW>; // [n][k/4]

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
  switch params.act {
    case 1u: { return select(0.0, v, v > 0.0 || is_nan(v)); }
    case 2u: { return select(clamp(v, 0.0, 6.0), v, is_nan(v)); }
    case 3u: { return 0.5 * v * (1.0 + erf_(v * 0.70710678118654752)); }
    case 4u: { return v * sigmoid_(1.702 * v); }
    default: { return v; }
  }
}

// op(A)[r, kk] of this batch entry, 0 outside the matrix (zeros add nothing, even to Inf).
fn load_a(base: u32, r: u32, kk: u32) -> f32 {
  var v = 0.0;
  if (r < params.m && kk < params.k) {
    v = a[base + select(r * params.k + kk, kk * params.m + r, TRANS_A)];
  }
  return v;
}

fn load_b(base: u32, col: u32, kk: u32) -> f32 {
  var v = 0.0;
  if (col < params.n && kk < params.k) {
    v = b[base + select(kk * params.n + col, col * params.k + kk, TRANS_B)];
  }
  return v;
}

fn mac(acc: vec4<f32>, av: vec4<f32>, bx: vec4<f32>, by: vec4<f32>, bz: vec4<f32>, bw: vec4<f32>) -> vec4<f32> {
  return fma(vec4<f32>(av.w), bw, fma(vec4<f32>(av.z), bz, fma(vec4<f32>(av.y), by, fma(vec4<f32>(av.x), bx, acc))));
}

fn store_row(c_base: u32, r: u32, col: u32, v: vec4<f32>) {
  if (r >= params.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < params.n) {
      var x = params.alpha * v[j];
      if ((params.epilogue & 1u) != 0u) { x += bias[col + j]; }
      let o = c_base + r * params.n + col + j;
      if ((params.epilogue & 2u) != 0u) { x += residual[o]; }
      c[o] = activate(x);
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
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

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < params.k; k0 += BK) {
    for (var e = li; e < BM * BK4; e += threads) {
      let r = e / BK4;
      let k4 = e % BK4;
      let gk = k0 + 4u * k4;
      tile_a[r * ROW + k4] = vec4<f32>(
        load_a(a_base, row0 + r, gk),
        load_a(a_base, row0 + r, gk + 1u),
        load_a(a_base, row0 + r, gk + 2u),
        load_a(a_base, row0 + r, gk + 3u),
      );
    }
    for (var e = li; e < BN * BK4; e += threads) {
      let r = e / BK4;
      let k4 = e % BK4;
      let gk = k0 + 4u * k4;
      tile_b[r * ROW + k4] = vec4<f32>(
        load_b(b_base, col0 + r, gk),
        load_b(b_base, col0 + r, gk + 1u),
        load_b(b_base, col0 + r, gk + 2u),
        load_b(b_base, col0 + r, gk + 3u),
      );
    }
    workgroupBarrier();
    for (var k4 = 0u; k4 < BK4; k4++) {
      let cb = lid.x * 4u * ROW + k4;
      let b0 = tile_b[cb];
      let b1 = tile_b[cb + ROW];
      let b2 = tile_b[cb + 2u * ROW];
      let b3 = tile_b[cb + 3u * ROW];
      let bx = vec4<f32>(b0.x, b1.x, b2.x, b3.x);
      let by = vec4<f32>(b0.y, b1.y, b2.y, b3.y);
      let bz = vec4<f32>(b0.z, b1.z, b2.z, b3.z);
      let bw = vec4<f32>(b0.w, b1.w, b2.w, b3.w);
      let ra = lid.y * TM * ROW + k4;
      if (TM > 0u) { acc0 = mac(acc0, tile_a[ra + 0u * ROW], bx, by, bz, bw); }
      if (TM > 1u) { acc1 = mac(acc1, tile_a[ra + 1u * ROW], bx, by, bz, bw); }
      if (TM > 2u) { acc2 = mac(acc2, tile_a[ra + 2u * ROW], bx, by, bz, bw); }
      if (TM > 3u) { acc3 = mac(acc3, tile_a[ra + 3u * ROW], bx, by, bz, bw); }
      if (TM > 4u) { acc4 = mac(acc4, tile_a[ra + 4u * ROW], bx, by, bz, bw); }
      if (TM > 5u) { acc5 = mac(acc5, tile_a[ra + 5u * ROW], bx, by, bz, bw); }
      if (TM > 6u) { acc6 = mac(acc6, tile_a[ra + 6u * ROW], bx, by, bz, bw); }
      if (TM > 7u) { acc7 = mac(acc7, tile_a[ra + 7u * ROW], bx, by, bz, bw); }
    }
    workgroupBarrier();
  }

  let c_base = batch * params.m * params.n;
  if (TM > 0u) { store_row(c_base, row0 + lid.y * TM + 0u, col0 + lid.x * 4u, acc0); }
  if (TM > 1u) { store_row(c_base, row0 + lid.y * TM + 1u, col0 + lid.x * 4u, acc1); }
  if (TM > 2u) { store_row(c_base, row0 + lid.y * TM + 2u, col0 + lid.x * 4u, acc2); }
  if (TM > 3u) { store_row(c_base, row0 + lid.y * TM + 3u, col0 + lid.x * 4u, acc3); }
  if (TM > 4u) { store_row(c_base, row0 + lid.y * TM + 4u, col0 + lid.x * 4u, acc4); }
  if (TM > 5u) { store_row(c_base, row0 + lid.y * TM + 5u, col0 + lid.x * 4u, acc5); }
  if (TM > 6u) { store_row(c_base, row0 + lid.y * TM + 6u, col0 + lid.x * 4u, acc6); }
  if (TM > 7u) { store_row(c_base, row0 + lid.y * TM + 7u, col0 + lid.x * 4u, acc7); }
}
