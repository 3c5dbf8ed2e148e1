// argmax / argmin along one axis (rows of `cols` elements `inner` apart), one workgroup per
// row: each thread keeps its best (value, index), then the first thread merges them. Ties go to
// the first index; NaN beats every number (as torch, the first NaN's index is returned).
// MAX: true for argmax, false for argmin.
override MAX: bool = true;
override WG: u32 = 256u;

const NONE: u32 = 0xffffffffu;

struct Params {
  rows: u32,
  cols: u32,
  inner: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// Does candidate (qv, qi) beat the current best (pv, pi)?
fn beats(qv: f32, qi: u32, pv: f32, pi: u32) -> bool {
  if (qi == NONE) { return false; }
  if (pi == NONE) { return true; }
  let qn = is_nan(qv);
  let pn = is_nan(pv);
  if (qn != pn) { return qn; }
  if (!qn && qv != pv) { return select((qv < pv), (qv > pv), MAX); }
  return qi < pi;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.groups_x;
  if (row >= params.rows) { return; } // uniform per workgroup
  let base = (row / params.inner) * params.cols * params.inner + row % params.inner;
  var bv = 0.0;
  var bi = NONE;
  for (var k = lid; k < params.cols; k += WG) {
    let v = x[base + k * params.inner];
    if (beats(v, k, bv, bi)) {
      bv = v;
      bi = k;
    }
  }
  best_v[lid] = bv;
  best_i[lid] = bi;
  workgroupBarrier();
  // Every candidate in index order (no barrier inside a loop: cheap to compile and on CPUs).
  if (lid == 0u) {
    for (var i = 1u; i < WG; i++) {
      if (beats(best_v[i], best_i[i], bv, bi)) {
        bv = best_v[i];
        bi = best_i[i];
      }
    }
    out[row] = i32(bi);
  }
}
