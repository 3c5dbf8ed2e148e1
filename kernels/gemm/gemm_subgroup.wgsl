// C[b] = act(alpha·op(A[b])·op(B[b]) + bias + residual[b]) for one batch entry per workgroup z.
// op(A) is M×K (A stored [M,K], or [K,M] with TRANS_A); op(B) is K×N (B stored [K,N], or [N,K]
// with TRANS_B). Batch dims (up to 4, innermost last) broadcast through per-operand strides (0).
//
// gemm.wgsl with A shared through subgroup broadcasts (for llvmpipe with subgroups of >= 8 lanes).
// All threads of a workgroup compute the same 8 rows (4 columns each), so any subgroup holds
// threads of the same rows: per 8-deep K step, lane l loads A[row, k + l] once and broadcasts it,
// instead of every lane loading every A element (on llvmpipe a load is a per-lane scalar loop; a
// broadcast is a register shuffle). B is read as in gemm.wgsl.
enable subgroups;

override WG_X: u32 = 64u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// B's contiguous dim and K are multiples of 4 (vec4 loads of B).
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

fn b_row(base: u32, col: u32, kk: u32) -> vec4<f32> {
  return vec4<f32>(b_elem(base, col, kk), b_elem(base, col + 1u, kk), b_elem(base, col + 2u, kk),
    b_elem(base, col + 3u, kk));
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

// acc + Σ_q A[row, k + q] · (u | v)[q], where lane q of this subgroup holds A[row, k + q] in x.
fn mac8(acc: vec4<f32>, x: f32, u: mat4x4<f32>, v: mat4x4<f32>) -> vec4<f32> {
  let lo = vec4<f32>(subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u),
    subgroupBroadcast(x, 2u), subgroupBroadcast(x, 3u));
  let hi = vec4<f32>(subgroupBroadcast(x, 4u), subgroupBroadcast(x, 5u),
    subgroupBroadcast(x, 6u), subgroupBroadcast(x, 7u));
  return mac(mac(acc, lo, u), hi, v);
}

@compute @workgroup_size(WG_X)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
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
  let r0 = wg.y * 8u;
  let c0 = (wg.x * WG_X + lid.x) * 4u;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  for (var k = 0u; k < params.k; k += 8u) {
    let u = b_block(b_base, c0, k);
    // With VEC_B, K is a multiple of 4 but maybe not of 8: the upper half may not exist.
    var v = mat4x4<f32>();
    if (k + 4u < params.k) { v = b_block(b_base, c0, k + 4u); }
    let kl = k + lane;
    acc0 = mac8(acc0, a_elem(a_base, r0, kl), u, v);
    acc1 = mac8(acc1, a_elem(a_base, r0 + 1u, kl), u, v);
    acc2 = mac8(acc2, a_elem(a_base, r0 + 2u, kl), u, v);
    acc3 = mac8(acc3, a_elem(a_base, r0 + 3u, kl), u, v);
    acc4 = mac8(acc4, a_elem(a_base, r0 + 4u, kl), u, v);
    acc5 = mac8(acc5, a_elem(a_base, r0 + 5u, kl), u, v);
    acc6 = mac8(acc6, a_elem(a_base, r0 + 6u, kl), u, v);
    acc7 = mac8(acc7, a_elem(a_base, r0 + 7u, kl), u, v);
  }

  var tile = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  let c_base = batch * params.m * params.n;
  let rows = min(8u, params.m - min(r0, params.m));
  let cols = min(4u, params.n - min(c0, params.n));
  for (var i = 0u; i < rows; i++) {
    for (var j = 0u; j < cols; j++) {
      var v = params.alpha * tile[i][j];
      if ((params.epilogue & 1u) != 0u) { v += bias[c0 + j]; }
      let o = c_base + (r0 + i) * params.n + c0 + j;
      if ((params.epilogue & 2u) != 0u) { v += residual[o]; }
      c[o] = activate(v);
    }
  }
}
