// Embedding backward, deterministic: grad_weight[v, :] = Σ grad_out[m, :] over the positions m
// with ids[m] == v, summed in ascending m. One workgroup per position n; only the first
// position of each id (the "leader") writes, scanning all ids in chunks of WG and adding the
// matching rows in order, so no two workgroups touch the same row and no float atomics are
// needed. grad_weight must be zero-filled; rows of unused ids stay zero.
override WG: u32 = 256u;

struct Params {
  num_ids: u32,
  dim: u32,
  vocab: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read> grad_out: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> grad_weight: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> hit: array<u32, WG>;
var<workgroup> matches: array<u32, WG>;
var<workgroup> match_count: u32;
// Set when a position before n has the same id: n is not the leader.
var<workgroup> not_leader: u32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * params.groups_x;
  if (n >= params.num_ids) { return; } // uniform per workgroup
  let id = ids[n];
  if (id < 0 || u32(id) >= params.vocab) { return; }
  let row = u32(id) * params.dim;
  for (var chunk = 0u; chunk < params.num_ids; chunk += WG) {
    let m = chunk + lid;
    hit[lid] = select(0u, 1u, m < params.num_ids && ids[min(m, params.num_ids - 1u)] == id);
    workgroupBarrier();
    if (lid == 0u) {
      var count = 0u;
      var earlier = 0u;
      for (var j = 0u; j < WG; j++) {
        if (hit[j] != 0u) {
          if (chunk + j < n) { earlier = 1u; }
          matches[count] = chunk + j;
          count++;
        }
      }
      match_count = count;
      not_leader = earlier;
    }
    if (workgroupUniformLoad(&not_leader) != 0u) { return; }
    let count = workgroupUniformLoad(&match_count);
    for (var d = lid; d < params.dim; d += WG) {
      var acc = grad_weight[row + d];
      for (var j = 0u; j < count; j++) { acc += grad_out[matches[j] * params.dim + d]; }
      grad_weight[row + d] = acc;
    }
    workgroupBarrier(); // `hit` and `matches` are rewritten by the next chunk
  }
}
