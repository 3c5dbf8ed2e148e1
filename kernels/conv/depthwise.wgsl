// Depthwise convolution (groups = channels, one filter per channel) on channels-last tensors:
// dst[n, y, x, c] = Σ_{ky, kx} src[n, iy, ix, c] · w[ky, kx, c], iy = y·stride − pad + ky·dil.
// TRANSPOSED (the input gradient): src is dy, dst is dx, iy = (y + pad − ky·dil) / stride where
// that divides exactly — the same weights, as each channel only sees itself.
// A workgroup owns TM destination pixels (uniform coordinates and bounds tests); each
// invocation owns 4 consecutive channels and reuses its weights across the TM pixels.
// Weights are read in place from PyTorch's layout [C, 1, KH, KW].
// Epilogue: + bias[c], + residual[dst index], then the activation.

override WG: u32 = 16u;
override TRANSPOSED: bool = false;
override HAS_BIAS: bool = false;
override HAS_RESIDUAL: bool = false;
// 0 none, 1 relu, 2 relu6.
override ACT: u32 = 0u;

const TM: u32 = 4u;

struct Params {
  src_h: u32,
  src_w: u32,
  dst_h: u32,
  dst_w: u32,
  channels: u32,
  _p0: u32,
  kh: u32,
  kw: u32,
  pixels: u32, // N · dst_h · dst_w
  pixel_base: u32,
  stride: vec2<u32>,
  pad: vec2<u32>,
  dil: vec2<u32>,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// floor(a / b) without integer division (CPU adapters run it one lane at a time): a float
// quotient, corrected twice; exact for a < 2^24.
fn div_u(a: u32, b: u32) -> u32 {
  var q = u32(f32(a) / f32(b));
  for (var k = 0; k < 2; k++) {
    if (q * b > a) { q -= 1u; } else if ((q + 1u) * b <= a) { q += 1u; }
  }
  return q;
}

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return clamp(v, 0.0, 6.0); }
    default: { return v; }
  }
}

// Source row (along one axis) read by destination coordinate `d` through tap `k`; -1 if none.
// Branch-free (selects): early returns inside the tap loops made llvmpipe run them masked.
fn source_coord(d: u32, k: u32, axis: u32, size: u32) -> i32 {
  let s = i32(params.stride[axis]);
  let p = i32(params.pad[axis]);
  let kd = i32(k * params.dil[axis]);
  if (TRANSPOSED) {
    let t = i32(d) + p - kd;
    // floor(t / s) from a float quotient: exact for coordinates < 2^16 and strides < 64.
    let q = i32(floor((f32(t) + 0.5) / f32(s)));
    return select(-1, q, t >= 0 && q * s == t && q < i32(size));
  }
  let t = i32(d) * s - p + kd;
  return select(-1, t, t >= 0 && t < i32(size));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c0 = (wid.x * WG + lid) * 4u;
  let p0 = params.pixel_base + wid.y * TM;
  let plane = params.dst_h * params.dst_w;
  let ch = params.channels;
  // Channels past the end read a clamped index; they are never stored.
  let last = arrayLength(&src) - 1u;

  var img: array<u32, TM>;
  var py: array<u32, TM>;
  var px: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let p = min(p0 + i, params.pixels - 1u);
    img[i] = div_u(p, plane);
    let r = p - img[i] * plane;
    py[i] = div_u(r, params.dst_w);
    px[i] = r - py[i] * params.dst_w;
  }

  var acc: array<vec4<f32>, TM>;
  for (var ky = 0u; ky < params.kh; ky++) {
    for (var kx = 0u; kx < params.kw; kx++) {
      // Channels past the end repeat the last one (never stored).
      let taps = params.kh * params.kw;
      let t = ky * params.kw + kx;
      let wv = vec4<f32>(
        w[min(c0, ch - 1u) * taps + t],
        w[min(c0 + 1u, ch - 1u) * taps + t],
        w[min(c0 + 2u, ch - 1u) * taps + t],
        w[min(c0 + 3u, ch - 1u) * taps + t],
      );
      for (var i = 0u; i < TM; i++) {
        let row = source_coord(py[i], ky, 0u, params.src_h);
        let col = source_coord(px[i], kx, 1u, params.src_w);
        if (row < 0 || col < 0) { continue; }
        let at = ((img[i] * params.src_h + u32(row)) * params.src_w + u32(col)) * ch + c0;
        let xv = vec4<f32>(
          src[min(at, last)],
          src[min(at + 1u, last)],
          src[min(at + 2u, last)],
          src[min(at + 3u, last)],
        );
        acc[i] = fma(xv, wv, acc[i]);
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let p = p0 + i;
    if (p >= params.pixels) { break; }
    for (var e = 0u; e < 4u; e++) {
      let c = c0 + e;
      if (c >= ch) { continue; }
      let at = p * ch + c;
      var v = acc[i][e];
      if (HAS_BIAS) { v += bias[c]; }
      if (HAS_RESIDUAL) { v += residual[at]; }
      dst[at] = activate(v);
    }
  }
}
