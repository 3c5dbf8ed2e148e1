// One workgroup per output element: threads stride over the reduced elements, then a fixed
// tree in workgroup memory, so the summation order (and the result) is bit-identical per run.
// OP: 0 sum, 1 max, 2 min; the identity (0, -inf, +inf) arrives as bits in the uniforms. Kept and reduced dims are described by sizes and input strides.
override OP: u32 = 0u;
override WG: u32 = 256u;

struct Params {
  out_n: u32,
  red_n: u32,
  out_rank: u32,
  red_rank: u32,
  groups_x: u32,
  init_bits: u32, // the identity's bits: WGSL constants cannot be infinite

  _p1: u32,
  _p2: u32,
  out_shape: array<vec4<u32>, 2>,
  out_strides: array<vec4<u32>, 2>,
  red_shape: array<vec4<u32>, 2>,
  red_strides: array<vec4<u32>, 2>,
}

// NaN test on the bits: compilers may fold `v != v` to false under finite-math assumptions.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> partial: array<f32, WG>;

fn at(v: array<vec4<u32>, 2>, k: u32) -> u32 {
  return v[k / 4u][k % 4u];
}


fn combine(p: f32, q: f32) -> f32 {
  switch OP {
    case 1u: { return select(max(p, q), p + q, is_nan(p) || is_nan(q)); }
    case 2u: { return select(min(p, q), p + q, is_nan(p) || is_nan(q)); }
    default: { return p + q; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * params.groups_x;
  if (o >= params.out_n) { return; } // uniform per workgroup: the barrier below stays uniform
  var rem = o;
  var base = 0u;
  for (var d = i32(params.out_rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let s = at(params.out_shape, k);
    base += (rem % s) * at(params.out_strides, k);
    rem = rem / s;
  }
  var acc = bitcast<f32>(params.init_bits);
  for (var r = lid; r < params.red_n; r += WG) {
    var rr = r;
    var off = base;
    for (var d = i32(params.red_rank) - 1; d >= 0; d--) {
      let k = u32(d);
      let s = at(params.red_shape, k);
      off += (rr % s) * at(params.red_strides, k);
      rr = rr / s;
    }
    acc = combine(acc, x[off]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var step = WG / 2u; step > 0u; step = step / 2u) {
    if (lid < step) {
      partial[lid] = combine(partial[lid], partial[lid + step]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[o] = partial[0];
  }
}
