// out = x with its dims permuted, copied contiguous. Works on 32-bit words of any dtype:
// out[i] = x[Σ_d c_d · strides[d]], where c is i's coordinate in the output shape and
// strides[d] is x's stride along the input dim that becomes output dim d.
// Each invocation writes RUN consecutive outputs: it divides out the first one's coordinate,
// then steps the coordinate like an odometer (no division per element: CPU adapters run RUN
// of 16; GPUs keep RUN = 1 so neighbouring invocations write neighbouring words).
override WG: u32 = 256u;
override RUN: u32 = 1u;

struct Params {
  n: u32,
  rank: u32,
  groups_x: u32,
  _pad: u32,
  shape: array<vec4<u32>, 2>,
  strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

fn at(v: array<vec4<u32>, 2>, k: u32) -> u32 {
  return v[k / 4u][k % 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let first = (gid.x + gid.y * params.groups_x * WG) * RUN;
  if (first >= params.n) { return; }
  var coord: array<u32, 8>;
  var rem = first;
  var src = 0u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    coord[k] = rem % at(params.shape, k);
    rem = rem / at(params.shape, k);
    src += coord[k] * at(params.strides, k);
  }
  let last = params.rank - 1u;
  let end = min(first + RUN, params.n);
  for (var i = first; i < end; i++) {
    out[i] = x[src];
    // Next output coordinate: bump the last dim, carrying into earlier ones.
    var k = last;
    loop {
      coord[k] += 1u;
      src += at(params.strides, k);
      if (coord[k] < at(params.shape, k) || k == 0u) { break; }
      src -= coord[k] * at(params.strides, k);
      coord[k] = 0u;
      k -= 1u;
    }
  }
}
