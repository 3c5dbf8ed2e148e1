// Forward convolution (groups 1, Cin a multiple of 4) on channels-last tensors with weights
// packed by fold_bn.wgsl as [tap][Cin][cout_pad], and the epilogue act(y + bias + residual)
// fused: the evaluation-mode path, where the BatchNorm fold writes the packed copy anyway.
//
// The pixel tiling and order are conv2d.wgsl's (TM pixels per workgroup shared by every
// invocation, position-major pixels so whole taps are skipped); each invocation owns TN blocks
// of 4 output channels, and both operands arrive as vec4: the input as 4 reduction channels at
// once, each invocation's weights as lane-consecutive vec4s. On llvmpipe every non-constant
// load runs lane by lane, component by component, so loads, not FMAs, bound the loop: TN = 2
// halves the input loads per FMA. Measured on llvmpipe (ResNet-18 eval forward at 32², batch
// 64, all its packed convolutions): TM×TN = 16×1: 270 ms, 16×2: 207–214, 32×2: 203, 8×2: 226,
// 8×4: 353, 16×4: 673 (accumulators spill), 4×4: 276. The sums run in conv2d.wgsl's order
// (tap, then reduction channel).

override WG: u32 = 8u;
override HAS_BIAS: bool = false;
override HAS_RESIDUAL: bool = false;
// 0 none, 1 relu, 2 relu6.
override ACT: u32 = 0u;

const TM: u32 = 16u;
const TN: u32 = 2u;

struct Params {
  src_h: u32,
  src_w: u32,
  src_c4: u32, // Cin / 4
  dst_h: u32,
  dst_w: u32,
  dst_c: u32, // Cout
  cout4: u32, // ceil(Cout / 4): vec4 blocks of a packed weight row
  kh: u32,
  kw: u32,
  pixels: u32, // N · dst_h · dst_w
  pixel_base: u32, // first pixel of this dispatch (large images take several)
  batch: u32, // N
  stride: vec2<u32>,
  pad: vec2<u32>,
  dil: vec2<u32>,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> wp: array<vec4<f32>>;
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

// Source coordinate along one axis read by destination coordinate `d` through tap `k`; -1 if
// outside the image (branch-free, as in conv2d.wgsl).
fn source_coord(d: u32, k: u32, axis: u32, size: u32) -> i32 {
  let t = i32(d * params.stride[axis] + k * params.dil[axis]) - i32(params.pad[axis]);
  return select(-1, t, t >= 0 && t < i32(size));
}

fn activate(v: vec4<f32>) -> vec4<f32> {
  switch ACT {
    case 1u: { return max(v, vec4<f32>(0.0)); }
    case 2u: { return clamp(v, vec4<f32>(0.0), vec4<f32>(6.0)); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let cb0 = (wid.x * WG + lid) * TN; // this invocation's first block of 4 output channels
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
  // Weight blocks of this invocation (blocks past the end repeat the last one).
  var lane: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { lane[j] = min(cb0 + j, params.cout4 - 1u); }

  var acc: array<vec4<f32>, TM * TN>;
  let c4 = params.src_c4;
  let row_stride = params.cout4; // vec4s between consecutive reduction channels
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
        let at = ((img[i] * params.src_h + u32(row[i])) * params.src_w + u32(col)) * c4;
        off[i] = select(0u, at, ok[i]);
      }
      if (!reached) { continue; }
      var wi = (ky * params.kw + kx) * c4 * 4u * row_stride;
      for (var r4 = 0u; r4 < c4; r4++) {
        // wv[k·TN + j]: reduction channel 4·r4 + k, block j.
        var wv: array<vec4<f32>, 4u * TN>;
        for (var k = 0u; k < 4u; k++) {
          for (var j = 0u; j < TN; j++) { wv[k * TN + j] = wp[wi + k * row_stride + lane[j]]; }
        }
        for (var i = 0u; i < TM; i++) {
          let a = select(vec4<f32>(0.0), src[off[i] + r4], ok[i]);
          for (var j = 0u; j < TN; j++) {
            var s = fma(vec4<f32>(a.x), wv[j], acc[i * TN + j]);
            s = fma(vec4<f32>(a.y), wv[TN + j], s);
            s = fma(vec4<f32>(a.z), wv[2u * TN + j], s);
            acc[i * TN + j] = fma(vec4<f32>(a.w), wv[3u * TN + j], s);
          }
        }
        wi += 4u * row_stride;
      }
    }
  }

  for (var j = 0u; j < TN; j++) {
    let c0 = (cb0 + j) * 4u;
    if (c0 >= params.dst_c) { break; }
    var b = vec4<f32>(0.0);
    if (HAS_BIAS) {
      for (var e = 0u; e < 4u; e++) { b[e] = bias[min(c0 + e, params.dst_c - 1u)]; }
    }
    for (var i = 0u; i < TM; i++) {
      if (p0 + i >= params.pixels) { break; }
      let at = ((img[i] * params.dst_h + py[i]) * params.dst_w + px[i]) * params.dst_c + c0;
      var v = acc[i * TN + j] + b;
      if (HAS_RESIDUAL) {
        for (var e = 0u; e < 4u; e++) {
          if (c0 + e < params.dst_c) { v[e] += residual[at + e]; }
        }
      }
      v = activate(v);
      for (var e = 0u; e < 4u; e++) {
        if (c0 + e < params.dst_c) { dst[at + e] = v[e]; }
      }
    }
  }
}
