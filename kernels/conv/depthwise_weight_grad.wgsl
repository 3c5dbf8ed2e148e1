// Weight gradient of a depthwise convolution, partial over chunks of images:
// partial[chunk, c, ky, kx] = Σ_{images n of chunk, y, x} x[n, iy, ix, c] · dy[n, y, x, c]
// (iy = y·stride − pad + ky·dil). The host sums the chunks (a fixed order: deterministic).
// Workgroups: x over channels (4 consecutive per invocation), y over chunks, z over taps.

override WG: u32 = 16u;

struct Params {
  src_h: u32,
  src_w: u32,
  dst_h: u32,
  dst_w: u32,
  channels: u32,
  kh: u32,
  kw: u32,
  batch: u32, // N
  chunk: u32, // images per chunk
  _p0: u32,
  _p1: u32,
  _p2: u32,
  stride: vec2<u32>,
  pad: vec2<u32>,
  dil: vec2<u32>,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c0 = (wid.x * WG + lid) * 4u;
  let ch = params.channels;
  let ky = wid.z / params.kw; // once per workgroup
  let kx = wid.z - ky * params.kw;
  let oy = i32(ky * params.dil.x) - i32(params.pad.x);
  let ox = i32(kx * params.dil.y) - i32(params.pad.y);
  let xl = arrayLength(&x) - 1u;
  let dl = arrayLength(&dy) - 1u;
  var acc = vec4<f32>(0.0);
  let first = wid.y * params.chunk;
  let end = min(first + params.chunk, params.batch);
  for (var n = first; n < end; n++) {
    for (var y = 0u; y < params.dst_h; y++) {
      let iy = i32(y * params.stride.x) + oy;
      if (iy < 0 || iy >= i32(params.src_h)) { continue; }
      let src_row = (n * params.src_h + u32(iy)) * params.src_w;
      let dst_row = (n * params.dst_h + y) * params.dst_w;
      for (var xo = 0u; xo < params.dst_w; xo++) {
        let ix = i32(xo * params.stride.y) + ox;
        if (ix < 0 || ix >= i32(params.src_w)) { continue; }
        let d = (dst_row + xo) * ch + c0;
        let at = (src_row + u32(ix)) * ch + c0;
        let gv = vec4<f32>(
          dy[min(d, dl)],
          dy[min(d + 1u, dl)],
          dy[min(d + 2u, dl)],
          dy[min(d + 3u, dl)],
        );
        let xv = vec4<f32>(
          x[min(at, xl)],
          x[min(at + 1u, xl)],
          x[min(at + 2u, xl)],
          x[min(at + 3u, xl)],
        );
        acc = fma(xv, gv, acc);
      }
    }
  }
  let taps = params.kh * params.kw;
  for (var e = 0u; e < 4u; e++) {
    let c = c0 + e;
    if (c < ch) { partial[(wid.y * ch + c) * taps + wid.z] = acc[e]; }
  }
}
