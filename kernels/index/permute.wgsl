// out = x with its dims permuted, copied contiguous. Works on 32-bit words of any dtype:
// out[i] = x[Σ_d c_d · strides[d]], where c is i's coordinate in the output shape and
// strides[d] is x's stride along the input dim that becomes output dim d.
override WG: u32 = 256u;

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

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  var rem = i;
  var src = 0u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = params.shape[k / 4u][k % 4u];
    src += (rem % size) * params.strides[k / 4u][k % 4u];
    rem = rem / size;
  }
  out[i] = x[src];
}
