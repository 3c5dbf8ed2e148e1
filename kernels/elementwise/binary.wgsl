// out[i] = OP(a[ia], b[ib]) with NumPy broadcasting: strides of broadcast dims are 0.
// BROADCAST = false is the fast path for two contiguous tensors of the output's shape.
override OP: u32 = 0u;
override BROADCAST: bool = true;
override WG: u32 = 256u;

struct Params {
  n: u32,
  rank: u32,
  groups_x: u32,
  _pad: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

// NaN test on the bits: compilers may fold `v != v` to false under finite-math assumptions.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn apply(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return pow(x, y); }
    case 5u: { return select(max(x, y), x + y, is_nan(x) || is_nan(y)); } // NaN propagates as torch
    case 6u: { return select(min(x, y), x + y, is_nan(x) || is_nan(y)); }
    case 7u: { return select(0.0, 1.0, x < y); }
    case 8u: { return select(0.0, 1.0, x <= y); }
    case 9u: { return select(0.0, 1.0, x > y); }
    case 10u: { return select(0.0, 1.0, x >= y); }
    case 11u: { return select(0.0, 1.0, x == y); }
    case 12u: { return select(0.0, 1.0, x != y); }
    default: { return x; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  if (!BROADCAST) {
    out[i] = apply(a[i], b[i]);
    return;
  }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = params.shape[k / 4u][k % 4u];
    let c = rem % size;
    rem = rem / size;
    ia += c * params.a_strides[k / 4u][k % 4u];
    ib += c * params.b_strides[k / 4u][k % 4u];
  }
  out[i] = apply(a[ia], b[ib]);
}
