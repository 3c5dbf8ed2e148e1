// Cross-entropy and KD loss forward on [B, C] logits with C a multiple of 4, reading rows as
// vec4: consecutive invocations take consecutive vec4s, so each 8-lane SIMD group of a CPU
// adapter streams one contiguous run (on llvmpipe this load shape is about twice as fast as
// one f32 per lane: `akd bench roofline`). Same roles, results and fixed reduction order as
// ce_forward / kd_forward in softmax.wgsl; `params.cols` is C. The gradients:
// loss_vec4_backward.wgsl. The struct, the <row-reduce> block and wg_lse: row_lse.wgsl.
@group(0) @binding(0) var<storage, read> s: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> t: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

fn is_neg_inf4(v: vec4<f32>) -> vec4<bool> {
  return bitcast<vec4<u32>>(v) == vec4<u32>(0xff800000u);
}

// Adds four elements x with payloads w to a partial row (max, Σexp(x − max), Σexp(x − max)·w):
// one exp per element plus one to rescale the partial, and no branch. −inf elements weigh 0
// and their payload is skipped (no 0·inf); +inf or NaN make the sum NaN.
fn lse_push4(p: vec3<f32>, x: vec4<f32>, w: vec4<f32>) -> vec3<f32> {
  let m = max(p.x, max(max(x.x, x.y), max(x.z, x.w)));
  let r = exp(p.x - m);
  let e = exp(x - vec4<f32>(m));
  let ew = select(e * w, vec4<f32>(0.0), is_neg_inf4(x));
  let one = vec4<f32>(1.0);
  return vec3<f32>(m, p.y * r + dot(e, one), p.z * r + dot(ew, one));
}

@compute @workgroup_size(WG)
fn ce_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; } // uniform per workgroup: barriers stay uniform
  let n = params.cols / 4u;
  let base = row * n;
  var acc = LSE_EMPTY;
  for (var k = lid; k < n; k += WG) {
    acc = lse_push4(acc, s[base + k], vec4<f32>(0.0));
  }
  let r = wg_lse(acc, lid);
  if (lid == 0u) {
    let lse = r.x + log(r.y);
    let label = labels[row];
    stats[row] = lse;
    let ok = label >= 0 && u32(label) < params.cols;
    let k = u32(select(0, label, ok));
    out[row] = select(nan(), lse - s[base + k / 4u][k % 4u], ok);
  }
}

@compute @workgroup_size(WG)
fn kd_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let n = params.cols / 4u;
  let base = row * n;
  // Teacher partial carries Σ p_t·(t − s)/T (unnormalised) as its payload.
  var ps = LSE_EMPTY;
  var pt = LSE_EMPTY;
  for (var k = lid; k < n; k += WG) {
    let b = s[base + k] * params.scale;
    let a = t[base + k] * params.scale;
    ps = lse_push4(ps, b, vec4<f32>(0.0));
    pt = lse_push4(pt, a, a - b);
  }
  let rs = wg_lse(ps, lid);
  let rt = wg_lse(pt, lid);
  if (lid == 0u) {
    stats[2u * row] = rs.x + log(rs.y);
    stats[2u * row + 1u] = rt.x + log(rt.y);
    out[row] = (rt.z / rt.y - (rt.x - rs.x)) + (log(rs.y) - log(rt.y));
  }
}
