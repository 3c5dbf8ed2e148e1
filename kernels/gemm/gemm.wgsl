// C[b] = act(alpha·op(A[b])·op(B[b]) + bias + residual[b]) for one batch entry per workgroup z.
// op(A) is M×K (A stored [M,K], or [K,M] with TRANS_A); op(B) is K×N (B stored [K,N], or [N,K]
// with TRANS_B). Batch dims (up to 4, innermost last) broadcast through per-operand strides (0).
//
// Register-tiled without workgroup memory: each thread computes 4·TM4 rows × 4·TN4 columns of C
// in vec4 accumulators, reading 4×4 blocks of A and B per K step straight from storage (vec4
// loads along the contiguous dim when VEC_A / VEC_B say it is 4-aligned). This suits llvmpipe,
// where every load is a per-lane loop, workgroup memory is no cheaper than storage and barriers
// are coroutine switches; the math runs 8 lanes wide. gemm_tiled.wgsl is the staged variant.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
// Row quads (at most 2) and column quads (at most 2) per thread.
override TM4: u32 = 2u;
override TN4: u32 = 1u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// The operand's contiguous dim and K are multiples of 4 (vec4 loads, no K tail).
override VEC_A: bool = false;
override VEC_B: bool = false;

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

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

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

fn at_a(i: u32) -> f32 {
  return a[i / 4u][i % 4u];
}

fn at_b(i: u32) -> f32 {
  return b[i / 4u][i % 4u];
}

// op(A)[r, kk], 0 outside the matrix (zero times zero adds nothing, even where B is Inf).
fn a_elem(base: u32, r: u32, kk: u32) -> f32 {
  var v = 0.0;
  if (r < params.m && kk < params.k) {
    v = at_a(base + select(r * params.k + kk, kk * params.m + r, TRANS_A));
  }
  return v;
}

fn b_elem(base: u32, col: u32, kk: u32) -> f32 {
  var v = 0.0;
  if (col < params.n && kk < params.k) {
    v = at_b(base + select(kk * params.n + col, col * params.k + kk, TRANS_B));
  }
  return v;
}

fn a_row(base: u32, r: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(a_elem(base, r, k), a_elem(base, r, k + 1u), a_elem(base, r, k + 2u),
    a_elem(base, r, k + 3u));
}

fn b_row(base: u32, col: u32, kk: u32) -> vec4<f32> {
  return vec4<f32>(b_elem(base, col, kk), b_elem(base, col + 1u, kk), b_elem(base, col + 2u, kk),
    b_elem(base, col + 3u, kk));
}

// Rows r..r+3 of op(A) at k..k+3: result[i] = (A[r+i, k], ..., A[r+i, k+3]). Rows past M read
// clamped (their results are never stored).
fn a_block(base: u32, r: u32, k: u32) -> mat4x4<f32> {
  let m = params.m;
  if (VEC_A && !TRANS_A) {
    let kq = params.k / 4u;
    let bq = base / 4u + k / 4u;
    return mat4x4<f32>(
      a[bq + min(r, m - 1u) * kq],
      a[bq + min(r + 1u, m - 1u) * kq],
      a[bq + min(r + 2u, m - 1u) * kq],
      a[bq + min(r + 3u, m - 1u) * kq],
    );
  }
  if (VEC_A) {
    // A stored [K, M] with M % 4 == 0: one vec4 holds rows r..r+3 at one k.
    let mq = m / 4u;
    let bq = base / 4u + min(r, m - 4u) / 4u + k * mq;
    return transpose(mat4x4<f32>(a[bq], a[bq + mq], a[bq + 2u * mq], a[bq + 3u * mq]));
  }
  return mat4x4<f32>(a_row(base, r, k), a_row(base, r + 1u, k), a_row(base, r + 2u, k),
    a_row(base, r + 3u, k));
}

// Columns col..col+3 of op(B) at k..k+3: result[q] = (B[k+q, col], ..., B[k+q, col+3]).
fn b_block(base: u32, col: u32, k: u32) -> mat4x4<f32> {
  let n = params.n;
  if (VEC_B && !TRANS_B) {
    let nq = n / 4u;
    let bq = base / 4u + min(col, n - 4u) / 4u + k * nq;
    return mat4x4<f32>(b[bq], b[bq + nq], b[bq + 2u * nq], b[bq + 3u * nq]);
  }
  if (VEC_B) {
    // B stored [N, K] with K % 4 == 0: one vec4 holds one column at k..k+3.
    let kq = params.k / 4u;
    let bq = base / 4u + k / 4u;
    return transpose(mat4x4<f32>(
      b[bq + min(col, n - 1u) * kq],
      b[bq + min(col + 1u, n - 1u) * kq],
      b[bq + min(col + 2u, n - 1u) * kq],
      b[bq + min(col + 3u, n - 1u) * kq],
    ));
  }
  return mat4x4<f32>(b_row(base, col, k), b_row(base, col, k + 1u), b_row(base, col, k + 2u),
    b_row(base, col, k + 3u));
}

// acc + Σ_q a_row[q] · u[q]
fn mac(acc: vec4<f32>, a_row: vec4<f32>, u: mat4x4<f32>) -> vec4<f32> {
  return fma(vec4<f32>(a_row.w), u[3], fma(vec4<f32>(a_row.z), u[2],
    fma(vec4<f32>(a_row.y), u[1], fma(vec4<f32>(a_row.x), u[0], acc))));
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
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
  let r0 = (wg.y * WG_Y + lid.y) * TM4 * 4u;
  let c0 = (wg.x * WG_X + lid.x) * TN4 * 4u;

  // acc<row>_<column quad>; the unused ones fold away once TM4/TN4 are fixed.
  var acc0_0 = vec4<f32>(0.0);
  var acc1_0 = vec4<f32>(0.0);
  var acc2_0 = vec4<f32>(0.0);
  var acc3_0 = vec4<f32>(0.0);
  var acc4_0 = vec4<f32>(0.0);
  var acc5_0 = vec4<f32>(0.0);
  var acc6_0 = vec4<f32>(0.0);
  var acc7_0 = vec4<f32>(0.0);
  var acc0_1 = vec4<f32>(0.0);
  var acc1_1 = vec4<f32>(0.0);
  var acc2_1 = vec4<f32>(0.0);
  var acc3_1 = vec4<f32>(0.0);
  var acc4_1 = vec4<f32>(0.0);
  var acc5_1 = vec4<f32>(0.0);
  var acc6_1 = vec4<f32>(0.0);
  var acc7_1 = vec4<f32>(0.0);
  for (var k = 0u; k < params.k; k += 4u) {
    let u0 = b_block(b_base, c0, k);
    let t0 = a_block(a_base, r0, k);
    acc0_0 = mac(acc0_0, t0[0], u0);
    acc1_0 = mac(acc1_0, t0[1], u0);
    acc2_0 = mac(acc2_0, t0[2], u0);
    acc3_0 = mac(acc3_0, t0[3], u0);
    if (TN4 > 1u) {
      let u1 = b_block(b_base, c0 + 4u, k);
      acc0_1 = mac(acc0_1, t0[0], u1);
      acc1_1 = mac(acc1_1, t0[1], u1);
      acc2_1 = mac(acc2_1, t0[2], u1);
      acc3_1 = mac(acc3_1, t0[3], u1);
      if (TM4 > 1u) {
        let t1 = a_block(a_base, r0 + 4u, k);
        acc4_1 = mac(acc4_1, t1[0], u1);
        acc5_1 = mac(acc5_1, t1[1], u1);
        acc6_1 = mac(acc6_1, t1[2], u1);
        acc7_1 = mac(acc7_1, t1[3], u1);
        acc4_0 = mac(acc4_0, t1[0], u0);
        acc5_0 = mac(acc5_0, t1[1], u0);
        acc6_0 = mac(acc6_0, t1[2], u0);
        acc7_0 = mac(acc7_0, t1[3], u0);
      }
    } else if (TM4 > 1u) {
      let t1 = a_block(a_base, r0 + 4u, k);
      acc4_0 = mac(acc4_0, t1[0], u0);
      acc5_0 = mac(acc5_0, t1[1], u0);
      acc6_0 = mac(acc6_0, t1[2], u0);
      acc7_0 = mac(acc7_0, t1[3], u0);
    }
  }

  // One runtime-bounded loop for the epilogue: unrolled per accumulator it would be most of
  // the shader's code (and of its compile time).
  var tile = array<vec4<f32>, 16>(
    acc0_0, acc0_1, acc1_0, acc1_1, acc2_0, acc2_1, acc3_0, acc3_1,
    acc4_0, acc4_1, acc5_0, acc5_1, acc6_0, acc6_1, acc7_0, acc7_1,
  );
  let c_base = batch * params.m * params.n;
  let rows = min(TM4 * 4u, params.m - min(r0, params.m));
  let cols = min(TN4 * 4u, params.n - min(c0, params.n));
  for (var i = 0u; i < rows; i++) {
    for (var j = 0u; j < cols; j++) {
      var v = params.alpha * tile[i * 2u + j / 4u][j % 4u];
      if ((params.epilogue & 1u) != 0u) { v += bias[c0 + j]; }
      let o = c_base + (r0 + i) * params.n + c0 + j;
      if ((params.epilogue & 2u) != 0u) { v += residual[o]; }
      c[o] = activate(v);
    }
  }
}
