// A batch of uint8 HWC images → one f32 NCHW batch: each output pixel is a separable weighted
// sum of source pixels (the host folds the crop box, the resize filter with its antialias
// support, and the horizontal flip into per-image tap tables), scaled to [0, 1], then
// (v - mean) / std per channel.
//
// pixels: every image's bytes, four to a u32 word (little-endian). Image b starts at byte
// images[b].x, its rows are images[b].y bytes apart and it has images[b].z channels (3: RGB,
// 1: grey, replicated to RGB).
// taps: (first source index, count) of a contiguous run; output row y of image b is entry
// b·out_h + y, output column x is entry col_base + b·out_w + x. Weights of entry e are
// weights[e·max_taps + k]. Each source row is summed across first, then the rows down the
// column: the order of PyTorch's separable pass (horizontal, then vertical).
override WG: u32 = 16u;

struct Params {
  out_h: u32,
  out_w: u32,
  batch: u32,
  max_taps: u32,
  col_base: u32,
  first: u32, // output image index of images[0]
  _p0: u32,
  _p1: u32,
  mean: vec4<f32>,
  stdev: vec4<f32>, // `std` is a WGSL reserved word
}

@group(0) @binding(0) var<storage, read> pixels: array<u32>;
@group(0) @binding(1) var<storage, read> images: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> taps: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// The pixel at byte p as [0, 1] RGB (grey: one byte, replicated). An RGB pixel's bytes may
// straddle two words; the second is read only then, so no read goes past the image.
fn texel(p: u32, channels: u32) -> vec3<f32> {
  let w = p >> 2u;
  let s = (p & 3u) * 8u;
  var bits = pixels[w] >> s;
  if (channels == 3u && s > 8u) {
    bits |= pixels[w + 1u] << (32u - s);
  }
  let v = unpack4x8unorm(bits);
  return select(v.xxx, v.xyz, channels == 3u);
}

@compute @workgroup_size(WG, WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let x = gid.x;
  let y = gid.y;
  let b = gid.z;
  if (x >= params.out_w || y >= params.out_h || b >= params.batch) { return; }
  let image = images[b];
  let row = b * params.out_h + y;
  let col = params.col_base + b * params.out_w + x;
  let rt = taps[row];
  let ct = taps[col];
  var acc = vec3<f32>(0.0);
  for (var i = 0u; i < rt.y; i++) {
    let start = image.x + (rt.x + i) * image.y + ct.x * image.z;
    var line = vec3<f32>(0.0);
    for (var j = 0u; j < ct.y; j++) {
      line += weights[col * params.max_taps + j] * texel(start + j * image.z, image.z);
    }
    acc += weights[row * params.max_taps + i] * line;
  }
  let v = (acc - params.mean.xyz) / params.stdev.xyz;
  let plane = params.out_h * params.out_w;
  let o = (params.first + b) * 3u * plane + y * params.out_w + x;
  out[o] = v.x;
  out[o + plane] = v.y;
  out[o + 2u * plane] = v.z;
}
