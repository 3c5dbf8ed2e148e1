// Fragment, not a kernel: the subgroup version of a row kernel's `<row-reduce>` block (see
// row_reduce.ts). Same function names and results as the tree block. Each subgroup reduces in
// registers, its first lane leaves the partial in workgroup memory (other slots hold the
// identity, so no lid-to-subgroup mapping is assumed), then every subgroup folds all slots in
// the same fixed order: deterministic, and the result is already in every invocation.
// The identity of lse_merge; the lowest finite float stands in for -inf (no inf constants).
const LSE_EMPTY = vec3<f32>(-0x1.fffffep+127f, 0.0, 0.0);

// Partial rows as (max m, Σexp(x − m), Σexp(x − m)·w), merged; an empty partial weighs 0.
fn lse_merge(p: vec3<f32>, q: vec3<f32>) -> vec3<f32> {
  let m = max(p.x, q.x);
  let rp = select(exp(p.x - m), 0.0, p.y == 0.0);
  let rq = select(exp(q.x - m), 0.0, q.y == 0.0);
  return vec3<f32>(m, p.y * rp + q.y * rq, p.z * rp + q.z * rq);
}

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_v: array<vec3<f32>, WG>;

fn sg_lse(v: vec3<f32>) -> vec3<f32> {
  let m = subgroupMax(v.x);
  let r = select(exp(v.x - m), 0.0, v.y == 0.0);
  return vec3<f32>(m, subgroupAdd(v.y * r), subgroupAdd(v.z * r));
}

fn wg_sum(v: f32, lid: u32) -> f32 {
  let s = subgroupAdd(v);
  let lane = subgroupExclusiveAdd(1u);
  let n = subgroupAdd(1u);
  workgroupBarrier();
  red_f[lid] = select(0.0, s, lane == 0u);
  workgroupBarrier();
  var acc = 0.0;
  for (var i = lane; i < WG; i += n) {
    acc += red_f[i];
  }
  return subgroupAdd(acc);
}

fn wg_lse(v: vec3<f32>, lid: u32) -> vec3<f32> {
  let s = sg_lse(v);
  let lane = subgroupExclusiveAdd(1u);
  let n = subgroupAdd(1u);
  workgroupBarrier();
  red_v[lid] = select(LSE_EMPTY, s, lane == 0u);
  workgroupBarrier();
  var acc = LSE_EMPTY;
  for (var i = lane; i < WG; i += n) {
    acc = lse_merge(acc, red_v[i]);
  }
  return sg_lse(acc);
}
