// out = a strided 4-D view of `x` copied contiguous, zero where a coordinate falls outside `x`:
// out[d3, d2, d1, d0] = x[Σ_k d_k · strides[k]] if d_k < extent[k] for every k, else 0.
// Re-lays convolution weights (padding the channel dim to a multiple of 4).
// The grid spans (d0, d1, d2 + D2·d3): no per-element integer division, which CPU adapters
// (llvmpipe) run one lane at a time.
override WG: u32 = 64u;

struct Params {
  shape: vec4<u32>, // (D0, D1, D2, D3)
  extent: vec4<u32>,
  strides: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = params.shape;
  let d0 = gid.x;
  if (d0 >= s.x) { return; }
  let d1 = gid.y;
  let d3 = gid.z / s.z; // once per workgroup row
  let d2 = gid.z - d3 * s.z;
  let d = vec4<u32>(d0, d1, d2, d3);
  let inside = all(d < params.extent);
  let src = dot(d, params.strides);
  out[((d3 * s.z + d2) * s.y + d1) * s.x + d0] = select(0.0, x[select(0u, src, inside)], inside);
}
