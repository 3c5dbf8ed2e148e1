// 2-D convolution on channels-last tensors as an implicit GEMM (no im2col buffer).
//
// Forward: dst[n, y, x, g·LC + c] = Σ_{ky, kx, r} src[n, iy, ix, g·RC + r] · w[g·LC + c, r, ky, kx]
// with iy = y·stride − pad + ky·dil (zero outside the image).
// TRANSPOSED (the input gradient of a convolution): src is dy, dst is dx, and
// iy = (y + pad − ky·dil) / stride where that divides exactly and lands inside dy.
//
// Layout for software rasterisers (llvmpipe runs 8 invocations as one SIMD row): a workgroup
// owns TM destination pixels, which every invocation shares, so pixel data arrives as uniform
// (broadcast) loads; each invocation owns TN blocks of 4 consecutive destination channels and
// reuses each weight it loads for the TM pixels: per reduction step TM·TN vec4 FMAs for TM
// scalar and 4·TN per-invocation loads. Weights are read in place through strides (a re-laid
// copy cost more than it saved: llvmpipe loads invocation by invocation anyway).
// Pixels are enumerated position-major (p → image p % N, position p / N), so the TM pixels of a
// workgroup mostly share their position: which taps land inside the image (or, transposed, on
// the stride grid) is then the same for all of them, and taps that reach no pixel — padding,
// most of a small late-stage feature map, 3 of 4 taps of a stride-2 input gradient — are
// skipped as a whole.
// Bias, residual and activation run as a separate pass (bias_act.wgsl).

override WG: u32 = 8u;
override TRANSPOSED: bool = false;

const TM: u32 = 16u;
const TN: u32 = 1u;

struct Params {
  src_h: u32,
  src_w: u32,
  src_c: u32,
  dst_h: u32,
  dst_w: u32,
  dst_c: u32,
  red_c: u32, // reduction channels per group (RC)
  lane_c: u32, // destination channels per group (LC)
  kh: u32,
  kw: u32,
  pixels: u32, // N · dst_h · dst_w
  stride: vec2<u32>,
  pad: vec2<u32>,
  dil: vec2<u32>,
  pixel_base: u32, // first pixel of this dispatch (large images take several)
  batch: u32, // N
  // Weight element (group g, lane channel c, reduction channel r, tap t) is at
  // g·w_group + c·w_lane + r·w_red + t (PyTorch's [Cout, Cin/groups, KH, KW], read in place).
  w_group: u32,
  w_lane: u32,
  w_red: u32,
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
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
  let g = wid.z;
  let c0 = (wid.x * WG + lid) * 4u * TN;
  let p0 = params.pixel_base + wid.y * TM;

  // Destination pixel coordinates of the TM pixels (the last block repeats its final pixel).
  var img: array<u32, TM>;
  var py: array<u32, TM>;
  var px: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let p = min(p0 + i, params.pixels - 1u);
    let pos = div_u(p, params.batch);
    img[i] = p - pos * params.batch;
    py[i] = div_u(pos, params.dst_w);
    px[i] = pos - py[i] * params.dst_w;
  }

  // Offsets of this invocation's 4·TN weight columns (channels past the end repeat the last).
  var lane_off: array<u32, 4u * TN>;
  for (var k = 0u; k < 4u * TN; k++) {
    lane_off[k] = g * params.w_group + min(c0 + k, params.lane_c - 1u) * params.w_lane;
  }

  var acc: array<vec4<f32>, TM * TN>;
  let red = params.red_c;
  for (var ky = 0u; ky < params.kh; ky++) {
    var row: array<i32, TM>;
    for (var i = 0u; i < TM; i++) { row[i] = source_coord(py[i], ky, 0u, params.src_h); }
    for (var kx = 0u; kx < params.kw; kx++) {
      var off: array<u32, TM>;
      var ok: array<bool, TM>;
      var reached = false;
      for (var i = 0u; i < TM; i++) {
        let col = source_coord(px[i], kx, 1u, params.src_w);
        ok[i] = row[i] >= 0 && col >= 0;
        reached = reached || ok[i];
        let at = ((img[i] * params.src_h + u32(row[i])) * params.src_w + u32(col)) *
          params.src_c + g * red;
        off[i] = select(0u, at, ok[i]);
      }
      if (!reached) { continue; }
      var wi = ky * params.kw + kx;
      for (var r = 0u; r < red; r++) {
        var wv: array<vec4<f32>, TN>;
        for (var j = 0u; j < TN; j++) {
          wv[j] = vec4<f32>(
            w[wi + lane_off[4u * j]],
            w[wi + lane_off[4u * j + 1u]],
            w[wi + lane_off[4u * j + 2u]],
            w[wi + lane_off[4u * j + 3u]],
          );
        }
        for (var i = 0u; i < TM; i++) {
          let a = select(0.0, src[off[i] + r], ok[i]);
          for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(vec4<f32>(a), wv[j], acc[i * TN + j]); }
        }
        wi += params.w_red;
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    if (p0 + i >= params.pixels) { break; }
    let p = (img[i] * params.dst_h + py[i]) * params.dst_w + px[i];
    for (var j = 0u; j < TN; j++) {
      for (var e = 0u; e < 4u; e++) {
        let c = c0 + 4u * j + e;
        if (c >= params.lane_c) { continue; }
        dst[p * params.dst_c + g * params.lane_c + c] = acc[i * TN + j][e];
      }
    }
  }
}
