// out = a strided view of `x` copied contiguous, zero where a coordinate falls outside `x`:
// out[i] = x[Σ_d c_d · strides[d]] if c_d < extent[d] for every d, else 0, where c is i's
// coordinate in the output shape. Re-lays weights for the convolution kernels (padding the
// channel dim to a multiple of 4) and moves between NCHW and NHWC.
override WG: u32 = 256u;

struct Params {
  n: u32,
  rank: u32,
  groups_x: u32,
  _pad: u32,
  shape: array<vec4<u32>, 2>,
  extent: array<vec4<u32>, 2>,
  strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

fn at(v: array<vec4<u32>, 2>, k: u32) -> u32 {
  return v[k / 4u][k % 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  var rem = i;
  var src = 0u;
  var inside = true;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = at(params.shape, k);
    let c = rem % size;
    rem = rem / size;
    inside = inside && c < at(params.extent, k);
    src += c * at(params.strides, k);
  }
  out[i] = select(0.0, x[select(0u, src, inside)], inside);
}
