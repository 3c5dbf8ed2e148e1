// Weight gradient of a channels-last convolution, as a GEMM reduced over pixels, written in
// PyTorch's weight layout [Cout, RC, KH, KW]:
// dw[g·LC + c, r, ky, kx] = Σ_{n, y, x} src[n, iy, ix, g·RC + r] · dy[n, y, x, g·LC + c]
// with iy = y·stride − pad + ky·dil (taps outside the image contribute nothing).
// A workgroup owns TM consecutive reduction channels r of one tap (ky, kx), shared by all its
// invocations, so `src` arrives as uniform loads; each invocation owns TN blocks of 4
// consecutive output channels c (one short contiguous load of dy per block and pixel).
// The sum runs over pixels in a fixed order: deterministic.

override WG: u32 = 16u;

const TM: u32 = 16u;
const TN: u32 = 2u;

struct Params {
  src_h: u32,
  src_w: u32,
  src_c: u32,
  dst_h: u32,
  dst_w: u32,
  dst_c: u32,
  red_c: u32, // RC
  lane_c: u32, // LC
  kh: u32,
  kw: u32,
  batch: u32,
  r_blocks: u32, // ceil(RC / TM)
  stride: vec2<u32>,
  pad: vec2<u32>,
  dil: vec2<u32>,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.z;
  let tap = wid.y / params.r_blocks;
  let r0 = (wid.y % params.r_blocks) * TM;
  let ky = tap / params.kw;
  let kx = tap % params.kw;
  let c0 = (wid.x * WG + lid) * 4u * TN;
  let rlast = min(r0 + TM, params.red_c) - r0 - 1u;
  let sy = i32(params.stride.x);
  let sx = i32(params.stride.y);
  let oy = i32(ky * params.dil.x) - i32(params.pad.x);
  let ox = i32(kx * params.dil.y) - i32(params.pad.y);
  let dy_last = arrayLength(&dy) - 1u;

  var acc: array<vec4<f32>, TM * TN>;
  for (var n = 0u; n < params.batch; n++) {
    for (var y = 0u; y < params.dst_h; y++) {
      let iy = i32(y) * sy + oy;
      if (iy < 0 || iy >= i32(params.src_h)) { continue; }
      let src_row = (n * params.src_h + u32(iy)) * params.src_w;
      let dy_row = (n * params.dst_h + y) * params.dst_w;
      for (var x = 0u; x < params.dst_w; x++) {
        let ix = i32(x) * sx + ox;
        if (ix < 0 || ix >= i32(params.src_w)) { continue; }
        let sb = (src_row + u32(ix)) * params.src_c + g * params.red_c + r0;
        let db = (dy_row + x) * params.dst_c + g * params.lane_c + c0;
        var gv: array<vec4<f32>, TN>;
        for (var j = 0u; j < TN; j++) {
          // Clamped per component: channels past the tensor's end are read but never stored.
          let q = db + 4u * j;
          gv[j] = vec4<f32>(
            dy[min(q, dy_last)],
            dy[min(q + 1u, dy_last)],
            dy[min(q + 2u, dy_last)],
            dy[min(q + 3u, dy_last)],
          );
        }
        for (var i = 0u; i < TM; i++) {
          let a = src[sb + min(i, rlast)];
          for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(vec4<f32>(a), gv[j], acc[i * TN + j]); }
        }
      }
    }
  }

  let taps = params.kh * params.kw;
  for (var i = 0u; i <= rlast; i++) {
    for (var j = 0u; j < TN; j++) {
      for (var e = 0u; e < 4u; e++) {
        let c = c0 + 4u * j + e;
        if (c < params.lane_c) {
          dw[((g * params.lane_c + c) * params.red_c + r0 + i) * taps + tap] = acc[i * TN + j][e];
        }
      }
    }
  }
}
