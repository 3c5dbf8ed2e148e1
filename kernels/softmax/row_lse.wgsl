// Fragment, not a kernel: what the softmax-family row kernels share (softmax.wgsl,
// softmax_vec4.wgsl; softmax.ts prepends it): the uniform struct, the online log-sum-exp and
// the workgroup reductions. Each kernel file declares its bindings, `params` among them.
override WG: u32 = 256u;

struct Params {
  rows: u32,
  cols: u32,
  inner: u32,
  groups_x: u32,
  scale: f32, // logits are multiplied by it (1/T for KD)
  grad_scale: f32, // the batch-mean factor applied to results or gradients
  _p0: u32,
  _p1: u32,
}

// The lowest finite float: the identity of max, standing in for -inf (no inf constants).
const LOWEST: f32 = -0x1.fffffep+127f;
// An empty partial row for lse_push: (max, Σexp(x − max), Σexp(x − max)·w).
const LSE_EMPTY = vec3<f32>(LOWEST, 0.0, 0.0);

fn is_neg_inf(v: f32) -> bool {
  return bitcast<u32>(v) == 0xff800000u;
}

// Adds element x with payload w to a partial row: one exp, whichever of x and m is larger.
fn lse_push(p: vec3<f32>, x: f32, w: f32) -> vec3<f32> {
  let skip = is_neg_inf(x); // weight 0 (and no 0·inf from its payload)
  let e = select(exp(-abs(x - p.x)), 0.0, skip);
  if (x > p.x) {
    return vec3<f32>(x, p.y * e + 1.0, p.z * e + w);
  }
  return vec3<f32>(p.x, p.y + e, p.z + select(e * w, 0.0, skip));
}

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

// Merges the partial rows (max, Σexp(x − max), Σexp(x − max)·w) of a workgroup: the row's
// maximum first, then each partial rescaled to it once and summed. Empty partials weigh 0.
fn wg_lse(v: vec3<f32>, lid: u32) -> vec3<f32> {
  let m = wg_max(select(v.x, LOWEST, v.y == 0.0), lid);
  let r = select(exp(v.x - m), 0.0, v.y == 0.0);
  return vec3<f32>(m, wg_sum2(vec2<f32>(v.y * r, v.z * r), lid));
}

fn row_of(wid: vec3<u32>) -> u32 {
  return wid.x + wid.y * params.groups_x;
}

fn row_base(row: u32) -> u32 {
  return (row / params.inner) * params.cols * params.inner + row % params.inner;
}

// A quiet NaN made at run time (a constant NaN is rejected by WGSL's constant evaluation).
fn nan() -> f32 {
  return bitcast<f32>(0x7fc00000u + params.rows * 0u);
}

