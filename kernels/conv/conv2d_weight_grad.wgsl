// Weight gradient of a channels-last convolution, as a GEMM reduced over pixels, written in
// PyTorch's weight layout [Cout, RC, KH, KW]:
// dw[g·LC + c, r, ky, kx] = Σ_{n, y, x} src[n, iy, ix, g·RC + r] · dy[n, y, x, g·LC + c]
// with iy = y·stride − pad + ky·dil (taps outside the image contribute nothing).
// A workgroup owns TM consecutive reduction channels r of one tap (ky, kx), shared by all its
// invocations, so `src` arrives as uniform loads; each invocation owns TN blocks of 4
// consecutive output channels c (one short contiguous load of dy per block and pixel).
// FLAT_ROWS (few reduction channels, e.g. a 3-channel stem): the TM rows are instead TM
// consecutive (tap, r) pairs of the flattened K = KH·KW·RC, each with its own source offset.
// The sum runs over pixels in a fixed order: deterministic.

override WG: u32 = 8u;
override FLAT_ROWS: bool = false;

const TM: u32 = 16u;
const TN: u32 = 1u;

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
  k_rows: u32, // KH·KW·RC (FLAT_ROWS)
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// floor(a / b) without integer division (CPU adapters run it one lane at a time): a float
// quotient, corrected twice; exact for a < 2^24.
fn div_u(a: u32, b: u32) -> u32 {
  var q = u32(f32(a) / f32(b));
  for (var k = 0; k < 2; k++) {
    if (q * b > a) { q -= 1u; } else if ((q + 1u) * b <= a) { q += 1u; }
  }
  return q;
}

fn load_dy(db: u32) -> array<vec4<f32>, TN> {
  // Clamped per component: channels past the tensor's end are read but never stored.
  let last = arrayLength(&dy) - 1u;
  var gv: array<vec4<f32>, TN>;
  for (var j = 0u; j < TN; j++) {
    let q = db + 4u * j;
    gv[j] = vec4<f32>(
      dy[min(q, last)],
      dy[min(q + 1u, last)],
      dy[min(q + 2u, last)],
      dy[min(q + 3u, last)],
    );
  }
  return gv;
}

// dw for output channels c..c+3 (those that exist), reduction channel r, tap.
fn store4(g: u32, c: u32, r: u32, tap: u32, v: vec4<f32>) {
  let taps = params.kh * params.kw;
  for (var e = 0u; e < 4u; e++) {
    if (c + e < params.lane_c) {
      dw[((g * params.lane_c + c + e) * params.red_c + r) * taps + tap] = v[e];
    }
  }
}

// FLAT_ROWS: rows are (tap, r) pairs; every pixel, every row tests its own tap.
fn flat_rows(wid: vec3<u32>, c0: u32) {
  let g = wid.z;
  let k0 = wid.y * TM;
  var oy: array<i32, TM>;
  var ox: array<i32, TM>;
  var roff: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let k = min(k0 + i, params.k_rows - 1u);
    let tap = div_u(k, params.red_c);
    let ky = div_u(tap, params.kw);
    oy[i] = i32(ky * params.dil.x) - i32(params.pad.x);
    ox[i] = i32((tap - ky * params.kw) * params.dil.y) - i32(params.pad.y);
    roff[i] = g * params.red_c + k - tap * params.red_c;
  }
  var acc: array<vec4<f32>, TM * TN>;
  for (var n = 0u; n < params.batch; n++) {
    for (var y = 0u; y < params.dst_h; y++) {
      let dy_row = (n * params.dst_h + y) * params.dst_w;
      for (var x = 0u; x < params.dst_w; x++) {
        let gv = load_dy((dy_row + x) * params.dst_c + g * params.lane_c + c0);
        for (var i = 0u; i < TM; i++) {
          let iy = i32(y * params.stride.x) + oy[i];
          let ix = i32(x * params.stride.y) + ox[i];
          let ok = iy >= 0 && iy < i32(params.src_h) && ix >= 0 && ix < i32(params.src_w);
          let at = ((n * params.src_h + u32(iy)) * params.src_w + u32(ix)) * params.src_c + roff[i];
          let a = select(0.0, src[select(0u, at, ok)], ok);
          for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(vec4<f32>(a), gv[j], acc[i * TN + j]); }
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let k = k0 + i;
    if (k >= params.k_rows) { break; }
    let tap = div_u(k, params.red_c);
    for (var j = 0u; j < TN; j++) {
      store4(g, c0 + 4u * j, k - tap * params.red_c, tap, acc[i * TN + j]);
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c0 = (wid.x * WG + lid) * 4u * TN;
  if (FLAT_ROWS) {
    flat_rows(wid, c0);
    return;
  }
  let g = wid.z;
  let tap = wid.y / params.r_blocks;
  let r0 = (wid.y % params.r_blocks) * TM;
  let ky = tap / params.kw;
  let kx = tap % params.kw;
  let rlast = min(r0 + TM, params.red_c) - r0 - 1u;
  let sy = i32(params.stride.x);
  let sx = i32(params.stride.y);
  let oy = i32(ky * params.dil.x) - i32(params.pad.x);
  let ox = i32(kx * params.dil.y) - i32(params.pad.y);

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
        let gv = load_dy((dy_row + x) * params.dst_c + g * params.lane_c + c0);
        for (var i = 0u; i < TM; i++) {
          let a = src[sb + min(i, rlast)];
          for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(vec4<f32>(a), gv[j], acc[i * TN + j]); }
        }
      }
    }
  }

  for (var i = 0u; i <= rlast; i++) {
    for (var j = 0u; j < TN; j++) { store4(g, c0 + 4u * j, r0 + i, tap, acc[i * TN + j]); }
  }
}
