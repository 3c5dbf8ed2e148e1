// 2-D convolution on channels-last tensors as an implicit GEMM (no im2col buffer).
//
// Forward: dst[n, y, x, g·LC + c] = Σ_{ky, kx, r} src[n, iy, ix, g·RC + r] · w[g, ky, kx, r, c]
// with iy = y·stride − pad + ky·dil (zero outside the image).
// TRANSPOSED (the input gradient of a convolution): src is dy, dst is dx, and
// iy = (y + pad − ky·dil) / stride where that divides exactly and lands inside dy.
//
// Layout for software rasterisers (llvmpipe runs 8 invocations as one SIMD row): a workgroup
// owns TM destination pixels, which every invocation shares, so pixel data arrives as uniform
// (broadcast) loads; each invocation owns TN blocks of 4 consecutive destination channels, so
// the weight row w[.., r, c..c+3] is one short contiguous load. Per reduction step an
// invocation does TM·TN vec4 FMAs for TM scalar and TN vec4 loads.
// Weights arrive re-laid [G, KH, KW, RC, LCP], LCP = LC rounded up to 4 and zero padded.
// Epilogue: + bias[channel], + residual[dst index], then the activation.

override WG: u32 = 16u;
override TRANSPOSED: bool = false;
override HAS_BIAS: bool = false;
override HAS_RESIDUAL: bool = false;
// 0 none, 1 relu, 2 relu6.
override ACT: u32 = 0u;

const TM: u32 = 8u;
const TN: u32 = 2u;

struct Params {
  src_h: u32,
  src_w: u32,
  src_c: u32,
  dst_h: u32,
  dst_w: u32,
  dst_c: u32,
  red_c: u32, // reduction channels per group (RC)
  lane_c: u32, // destination channels per group (LC)
  lane_cp: u32, // LC rounded up to 4
  kh: u32,
  kw: u32,
  pixels: u32, // N · dst_h · dst_w
  stride: vec2<u32>,
  pad: vec2<u32>,
  dil: vec2<u32>,
  pixel_base: u32, // first pixel of this dispatch (large images take several)
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return clamp(v, 0.0, 6.0); }
    default: { return v; }
  }
}

// Source row (along one axis) read by destination coordinate `d` through tap `k`; -1 if none.
fn source_coord(d: u32, k: u32, axis: u32, size: u32) -> i32 {
  let s = i32(params.stride[axis]);
  let p = i32(params.pad[axis]);
  let kd = i32(k * params.dil[axis]);
  if (TRANSPOSED) {
    let t = i32(d) + p - kd;
    if (t < 0 || t % s != 0 || t / s >= i32(size)) { return -1; }
    return t / s;
  }
  let t = i32(d) * s - p + kd;
  if (t < 0 || t >= i32(size)) { return -1; }
  return t;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.z;
  let c0 = (wid.x * WG + lid) * 4u * TN;
  let p0 = params.pixel_base + wid.y * TM;
  let plane = params.dst_h * params.dst_w;

  // Destination pixel coordinates of the TM pixels (the last block repeats its final pixel).
  var img: array<u32, TM>;
  var py: array<u32, TM>;
  var px: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let p = min(p0 + i, params.pixels - 1u);
    img[i] = p / plane;
    let r = p % plane;
    py[i] = r / params.dst_w;
    px[i] = r % params.dst_w;
  }

  var acc: array<vec4<f32>, TM * TN>;
  let red = params.red_c;
  let lcp = params.lane_cp;
  for (var ky = 0u; ky < params.kh; ky++) {
    var row: array<i32, TM>;
    for (var i = 0u; i < TM; i++) { row[i] = source_coord(py[i], ky, 0u, params.src_h); }
    for (var kx = 0u; kx < params.kw; kx++) {
      var off: array<u32, TM>;
      var ok: array<bool, TM>;
      for (var i = 0u; i < TM; i++) {
        let col = source_coord(px[i], kx, 1u, params.src_w);
        ok[i] = row[i] >= 0 && col >= 0;
        let at = ((img[i] * params.src_h + u32(row[i])) * params.src_w + u32(col)) *
          params.src_c + g * red;
        off[i] = select(0u, at, ok[i]);
      }
      var wi = ((g * params.kh + ky) * params.kw + kx) * red * lcp + c0;
      for (var r = 0u; r < red; r++) {
        var wv: array<vec4<f32>, TN>;
        for (var j = 0u; j < TN; j++) {
          let q = min(wi + 4u * j, arrayLength(&w) - 4u);
          wv[j] = vec4<f32>(w[q], w[q + 1u], w[q + 2u], w[q + 3u]);
        }
        for (var i = 0u; i < TM; i++) {
          let a = select(0.0, src[off[i] + r], ok[i]);
          for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(vec4<f32>(a), wv[j], acc[i * TN + j]); }
        }
        wi += lcp;
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let p = p0 + i;
    if (p >= params.pixels) { break; }
    for (var j = 0u; j < TN; j++) {
      for (var e = 0u; e < 4u; e++) {
        let c = c0 + 4u * j + e;
        if (c >= params.lane_c) { continue; }
        let channel = g * params.lane_c + c;
        let at = p * params.dst_c + channel;
        var v = acc[i * TN + j][e];
        if (HAS_BIAS) { v += bias[channel]; }
        if (HAS_RESIDUAL) { v += residual[at]; }
        dst[at] = activate(v);
      }
    }
  }
}
