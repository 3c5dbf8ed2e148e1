// The softmax family, one workgroup per row: softmax / log-softmax along any axis (the row is
// `cols` elements `inner` apart), cross-entropy and the KD loss on [B, C] logits, forward and
// backward, and the fixed-order batch sum. Each thread folds its elements into an online
// (max, Σexp(x − max)) pair with one exp per element; pairs merge in a fixed order (wg_lse), so
// results are bit-identical across runs.
// OP (softmax entries): 0 softmax, 1 log_softmax.
override OP: u32 = 0u;
// The struct, lse_push, the <row-reduce> block and wg_lse: row_lse.wgsl.

// Roles per entry point:
//   softmax_forward   s = x, out = y             softmax_backward  s = y, g = dL/dy, out = dL/dx
//   ce_forward        s = logits, labels, stats = lse per row, out = loss per row
//   ce_backward       s, labels, g = dL/dloss (scalar), stats, out = dL/dlogits
//   kd_forward        s = student, t = teacher, stats = (lse(s/T), lse(t/T)) per row, out = loss per row
//   kd_backward       s, t, g, stats, out = dL/dstudent
//   batch_mean        s = loss per row, out = Σ·grad_scale
@group(0) @binding(0) var<storage, read> s: array<f32>;
@group(0) @binding(1) var<storage, read> t: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn softmax_forward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = row_of(wid);
  if (row >= params.rows) { return; } // uniform per workgroup: barriers stay uniform
  let base = row_base(row);
  let stride = params.inner;
  var acc = LSE_EMPTY;
  for (var k = lid; k < params.cols; k += WG) {
    acc = lse_push(acc, s[base + k * stride], 0.0);
  }
  let r = wg_lse(acc, lid);
  let lse = r.x + log(r.y);
  for (var k = lid; k < params.cols; k += WG) {
    let i = base + k * stride;
    let v = s[i] - lse;
    out[i] = select(exp(v), v, OP == 1u);
  }
}

@compute @workgroup_size(WG)
fn softmax_backward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = row_base(row);
  let stride = params.inner;
  // softmax: dx = y·(g − Σ g·y);  log_softmax: dx = g − exp(y)·Σ g.
  var part = 0.0;
  for (var k = lid; k < params.cols; k += WG) {
    let i = base + k * stride;
    part += select(g[i] * s[i], g[i], OP == 1u);
  }
  let sum = wg_sum(part, lid);
  for (var k = lid; k < params.cols; k += WG) {
    let i = base + k * stride;
    out[i] = select(s[i] * (g[i] - sum), g[i] - exp(s[i]) * sum, OP == 1u);
  }
}

@compute @workgroup_size(WG)
fn ce_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  var acc = LSE_EMPTY;
  for (var k = lid; k < params.cols; k += WG) {
    acc = lse_push(acc, s[base + k], 0.0);
  }
  let r = wg_lse(acc, lid);
  if (lid == 0u) {
    let lse = r.x + log(r.y);
    let label = labels[row];
    stats[row] = lse;
    let ok = label >= 0 && u32(label) < params.cols;
    out[row] = select(nan(), lse - s[base + u32(select(0, label, ok))], ok);
  }
}

@compute @workgroup_size(WG)
fn ce_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  let lse = stats[row];
  let label = labels[row];
  let scale = g[0] * params.grad_scale;
  for (var k = lid; k < params.cols; k += WG) {
    let hot = select(0.0, 1.0, i32(k) == label);
    out[base + k] = scale * (exp(s[base + k] - lse) - hot);
  }
}

@compute @workgroup_size(WG)
fn kd_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  // Teacher partial carries Σ p_t·(t − s)/T (unnormalised) as its payload.
  var ps = LSE_EMPTY;
  var pt = LSE_EMPTY;
  for (var k = lid; k < params.cols; k += WG) {
    let b = s[base + k] * params.scale;
    let a = t[base + k] * params.scale;
    ps = lse_push(ps, b, 0.0);
    pt = lse_push(pt, a, a - b);
  }
  let rs = wg_lse(ps, lid);
  let rt = wg_lse(pt, lid);
  if (lid == 0u) {
    // KL = E_pt[a − b] − lse_t + lse_s, with the maxima and log-sums kept apart.
    stats[2u * row] = rs.x + log(rs.y);
    stats[2u * row + 1u] = rt.x + log(rt.y);
    out[row] = (rt.z / rt.y - (rt.x - rs.x)) + (log(rs.y) - log(rt.y));
  }
}

@compute @workgroup_size(WG)
fn kd_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let base = row * params.cols;
  let lse_s = stats[2u * row];
  let lse_t = stats[2u * row + 1u];
  let scale = g[0] * params.grad_scale;
  for (var k = lid; k < params.cols; k += WG) {
    let ps = exp(s[base + k] * params.scale - lse_s);
    let pt = exp(t[base + k] * params.scale - lse_t);
    out[base + k] = scale * (ps - pt);
  }
}

@compute @workgroup_size(WG)
fn batch_mean(@builtin(local_invocation_index) lid: u32) {
  var part = 0.0;
  for (var i = lid; i < params.cols; i += WG) {
    part += s[i];
  }
  let sum = wg_sum(part, lid);
  if (lid == 0u) {
    out[0] = sum * params.grad_scale;
  }
}
