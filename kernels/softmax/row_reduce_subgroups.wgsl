// Fragment, not a kernel: the subgroup version of a row kernel's `<row-reduce>` block (see
// row_reduce.ts), with the same functions and results. Each subgroup reduces in registers and
// its first lane leaves the partial in workgroup memory (the other slots hold the identity, so
// no mapping of invocations to subgroups is assumed); then every subgroup folds all slots in
// the same fixed order: deterministic, and the result is in every invocation.
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_v: array<vec2<f32>, WG>;

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

fn wg_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  let s = subgroupAdd(v);
  let lane = subgroupExclusiveAdd(1u);
  let n = subgroupAdd(1u);
  workgroupBarrier();
  red_v[lid] = select(vec2<f32>(0.0), s, lane == 0u);
  workgroupBarrier();
  var acc = vec2<f32>(0.0);
  for (var i = lane; i < WG; i += n) {
    acc += red_v[i];
  }
  return subgroupAdd(acc);
}

fn wg_max(v: f32, lid: u32) -> f32 {
  let s = subgroupMax(v);
  let lane = subgroupExclusiveAdd(1u);
  let n = subgroupAdd(1u);
  workgroupBarrier();
  red_f[lid] = select(LOWEST, s, lane == 0u);
  workgroupBarrier();
  var acc = LOWEST;
  for (var i = lane; i < WG; i += n) {
    acc = max(acc, red_f[i]);
  }
  return subgroupMax(acc);
}
