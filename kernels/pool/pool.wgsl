// 2-D pooling on channels-last tensors [N, H, W, C] → [N, OH, OW, C], one invocation per output
// element. MODE 0 max (with the argmax as an index into the input plane, iy·W + ix; as PyTorch,
// the first maximum in window order wins and the last NaN), MODE 1 average (PyTorch's
// count_include_pad divisor), MODE 2 adaptive average (window [⌊o·H/OH⌋, ⌈(o+1)·H/OH⌉)).

override WG: u32 = 64u;
override MODE: u32 = 0u;
override COUNT_INCLUDE_PAD: bool = true;

struct Params {
  src_h: u32,
  src_w: u32,
  dst_h: u32,
  dst_w: u32,
  channels: u32,
  kh: u32,
  kw: u32,
  n: u32, // elements this dispatch writes (whole images, < 2^23)
  groups_x: u32,
  img_base: u32, // first image of this dispatch
  neg_inf: u32, // bits of -inf (WGSL constants cannot be infinite)
  _p1: u32,
  stride: vec2<u32>,
  pad: vec2<u32>,
  dil: vec2<u32>,
}

// floor(a / b) without integer division (CPU adapters run it one lane at a time): a float
// quotient, corrected twice; exact for a < 2^24.
fn div_u(a: u32, b: u32) -> u32 {
  var q = u32(f32(a) / f32(b));
  for (var k = 0; k < 2; k++) {
    if (q * b > a) { q -= 1u; } else if ((q + 1u) * b <= a) { q += 1u; }
  }
  return q;
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let ch = params.channels;
  let pix = div_u(i, ch);
  let c = i - pix * ch;
  let t = div_u(pix, params.dst_w);
  let ox = pix - t * params.dst_w;
  let local_img = div_u(t, params.dst_h);
  let oy = t - local_img * params.dst_h;
  let plane = (params.img_base + local_img) * params.src_h;
  let o = params.img_base * params.dst_h * params.dst_w * ch + i;
  if (MODE == 2u) {
    let y0 = div_u(oy * params.src_h, params.dst_h);
    let y1 = div_u((oy + 1u) * params.src_h + params.dst_h - 1u, params.dst_h);
    let x0 = div_u(ox * params.src_w, params.dst_w);
    let x1 = div_u((ox + 1u) * params.src_w + params.dst_w - 1u, params.dst_w);
    var s = 0.0;
    for (var iy = y0; iy < y1; iy++) {
      for (var ix = x0; ix < x1; ix++) { s += x[((plane + iy) * params.src_w + ix) * ch + c]; }
    }
    y[o] = s / f32((y1 - y0) * (x1 - x0));
    return;
  }
  let hs = i32(oy * params.stride.x) - i32(params.pad.x);
  let ws = i32(ox * params.stride.y) - i32(params.pad.y);
  var best = bitcast<f32>(params.neg_inf);
  var arg = -1;
  var s = 0.0;
  for (var ky = 0u; ky < params.kh; ky++) {
    let iy = hs + i32(ky * params.dil.x);
    if (iy < 0 || iy >= i32(params.src_h)) { continue; }
    for (var kx = 0u; kx < params.kw; kx++) {
      let ix = ws + i32(kx * params.dil.y);
      if (ix < 0 || ix >= i32(params.src_w)) { continue; }
      let v = x[((plane + u32(iy)) * params.src_w + u32(ix)) * ch + c];
      if (MODE == 0u) {
        if (arg < 0 || v > best || is_nan(v)) {
          best = v;
          arg = iy * i32(params.src_w) + ix;
        }
      } else {
        s += v;
      }
    }
  }
  if (MODE == 0u) {
    y[o] = best;
    indices[o] = arg;
    return;
  }
  // PyTorch's divisor: the window clipped to the padded input, or to the input proper.
  var count: i32;
  if (COUNT_INCLUDE_PAD) {
    let he = min(hs + i32(params.kh), i32(params.src_h + params.pad.x));
    let we = min(ws + i32(params.kw), i32(params.src_w + params.pad.y));
    count = (he - hs) * (we - ws);
  } else {
    let he = min(hs + i32(params.kh), i32(params.src_h));
    let we = min(ws + i32(params.kw), i32(params.src_w));
    count = (he - max(hs, 0)) * (we - max(ws, 0));
  }
  y[o] = s / f32(count);
}
