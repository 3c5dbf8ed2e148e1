// Normalisations, one workgroup per row: layer norm over the last dim (forward, input
// backward, and the weight/bias gradients as fixed-order column sums) and L2 normalisation
// along any axis (rows of `cols` elements `inner` apart). Reductions use a fixed order
// (wg_sum), so results are bit-identical across runs.
// HAS_WEIGHT / HAS_BIAS: layer norm's affine parameters are present.
override WG: u32 = 256u;
override HAS_WEIGHT: bool = true;
override HAS_BIAS: bool = true;

struct Params {
  rows: u32,
  cols: u32,
  inner: u32,
  groups_x: u32,
  eps: f32,
  chunk: u32, // ln_param_grad: rows per chunk
  _p1: u32,
  _p2: u32,
}

// Roles per entry point:
//   ln_forward      x, w, b, stats = (mean, rstd) per row, out = y
//   ln_backward     x, w, g = dL/dy, stats, out = dL/dx
//   ln_param_grad   x, g, stats, out = dL/dw, out2 = dL/db per chunk of rows: [chunks, cols]
//                   (one thread per column and chunk; the chunks are summed afterwards)
//   l2_forward      x, stats = max(‖x‖, eps) per row, out = y
//   l2_backward     g, stats, y (in x), out = dL/dx
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<storage, read_write> out2: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

// The lowest finite float: the identity of max (no inf constants).
const LOWEST: f32 = -0x1.fffffep+127f;

// <row-reduce> Workgroup reductions: each invocation leaves its partial in workgroup memory and
// every invocation folds all of them in index order: a fixed order (deterministic) and no
// barrier inside a loop (slow to compile and to run on CPU adapters). Replaced by
// row_reduce_subgroups.wgsl where the adapter has subgroups.
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_v: array<vec2<f32>, WG>;

fn wg_sum(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  red_f[lid] = v;
  workgroupBarrier();
  var acc = 0.0;
  for (var i = 0u; i < WG; i++) {
    acc += red_f[i];
  }
  return acc;
}

fn wg_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  workgroupBarrier();
  red_v[lid] = v;
  workgroupBarrier();
  var acc = vec2<f32>(0.0);
  for (var i = 0u; i < WG; i++) {
    acc += red_v[i];
  }
  return acc;
}

fn wg_max(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  red_f[lid] = v;
  workgroupBarrier();
  var acc = LOWEST;
  for (var i = 0u; i < WG; i++) {
    acc = max(acc, red_f[i]);
  }
  return acc;
}
// </row-reduce>

fn row_of(wid: vec3<u32>) -> u32 {
  return wid.x + wid.y * params.groups_x;
}

// Branches, not select(): an absent weight or bias is the 16-byte dummy, never to be indexed.
fn weight(k: u32) -> f32 {
  if (HAS_WEIGHT) {
    return w[k];
  }
  return 1.0;
}

fn bias(k: u32) -> f32 {
  if (HAS_BIAS) {
    return b[k];
  }
  return 0.0;
}

@compute @workgroup_size(WG)
fn ln_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; } // uniform per workgroup: barriers stay uniform
  let base = row * params.cols;
  let n = f32(params.cols);
  var part = 0.0;
  for (var k = lid; k < params.cols; k += WG) {
    part += x[base + k];
  }
  let mean = wg_sum(part, lid) / n;
  // Variance from centred values (a second sweep over the row, in cache), biased as torch.
  part = 0.0;
  for (var k = lid; k < params.cols; k += WG) {
    let d = x[base + k] - mean;
    part += d * d;
  }
  let rstd = inverseSqrt(wg_sum(part, lid) / n + params.eps);
  for (var k = lid; k < params.cols; k += WG) {
    let y = (x[base + k] - mean) * rstd * weight(k);
    out[base + k] = y + bias(k);
  }
  if (lid == 0u) {
    stats[2u * row] = mean;
    stats[2u * row + 1u] = rstd;
  }
}

@compute @workgroup_size(WG)
fn ln_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  let n = f32(params.cols);
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  // dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = g·w, x̂ = (x − mean)·rstd
  var p1 = 0.0;
  var p2 = 0.0;
  for (var k = lid; k < params.cols; k += WG) {
    let gw = g[base + k] * weight(k);
    p1 += gw;
    p2 += gw * (x[base + k] - mean) * rstd;
  }
  let m1 = wg_sum(p1, lid) / n;
  let m2 = wg_sum(p2, lid) / n;
  for (var k = lid; k < params.cols; k += WG) {
    let xh = (x[base + k] - mean) * rstd;
    out[base + k] = rstd * (g[base + k] * weight(k) - m1 - xh * m2);
  }
}

@compute @workgroup_size(WG)
fn ln_param_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let c = gid.y;
  if (k >= params.cols) { return; }
  let end = min(params.rows, (c + 1u) * params.chunk);
  var dw = 0.0;
  var db = 0.0;
  for (var r = c * params.chunk; r < end; r++) {
    let i = r * params.cols + k;
    dw += g[i] * (x[i] - stats[2u * r]) * stats[2u * r + 1u];
    db += g[i];
  }
  out[c * params.cols + k] = dw;
  out2[c * params.cols + k] = db;
}

fn l2_base(row: u32) -> u32 {
  return (row / params.inner) * params.cols * params.inner + row % params.inner;
}

@compute @workgroup_size(WG)
fn l2_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = l2_base(row);
  var part = 0.0;
  for (var k = lid; k < params.cols; k += WG) {
    let v = x[base + k * params.inner];
    part += v * v;
  }
  let d = max(sqrt(wg_sum(part, lid)), params.eps);
  for (var k = lid; k < params.cols; k += WG) {
    let i = base + k * params.inner;
    out[i] = x[i] / d;
  }
  if (lid == 0u) {
    stats[row] = d;
  }
}

@compute @workgroup_size(WG)
fn l2_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = l2_base(row);
  // y = x / d, d = max(‖x‖, eps): dx = (g − y·Σ g·y) / d while ‖x‖ > eps, else g / eps.
  var part = 0.0;
  for (var k = lid; k < params.cols; k += WG) {
    let i = base + k * params.inner;
    part += g[i] * x[i];
  }
  let d = stats[row];
  let dot = select(0.0, wg_sum(part, lid), d > params.eps);
  for (var k = lid; k < params.cols; k += WG) {
    let i = base + k * params.inner;
    out[i] = (g[i] - x[i] * dot) / d;
  }
}
