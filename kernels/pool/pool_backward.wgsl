// Input gradient of pool.wgsl's pooling, gathered per input element (no scatter, no atomics:
// deterministic): dx[n, iy, ix, c] = Σ over the output windows that contain (iy, ix) of
// MODE 0 g where that window's argmax is (iy, ix); MODE 1 g / divisor; MODE 2 g / window size.

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
  _p0: u32,
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

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn divisor(oy: u32, ox: u32) -> f32 {
  let hs = i32(oy * params.stride.x) - i32(params.pad.x);
  let ws = i32(ox * params.stride.y) - i32(params.pad.y);
  if (COUNT_INCLUDE_PAD) {
    let he = min(hs + i32(params.kh), i32(params.src_h + params.pad.x));
    let we = min(ws + i32(params.kw), i32(params.src_w + params.pad.y));
    return f32((he - hs) * (we - ws));
  }
  let he = min(hs + i32(params.kh), i32(params.src_h));
  let we = min(ws + i32(params.kw), i32(params.src_w));
  return f32((he - max(hs, 0)) * (we - max(ws, 0)));
}

// Output coordinate whose window reaches input coordinate `d` through tap `k`; -1 if none.
// Branch-free (selects): early returns inside the tap loops made llvmpipe run them masked.
fn window(d: u32, k: u32, axis: u32, size: u32) -> i32 {
  let t = i32(d) + i32(params.pad[axis]) - i32(k * params.dil[axis]);
  let s = i32(params.stride[axis]);
  // floor(t / s) from a float quotient: exact for coordinates < 2^16 and strides < 64.
  let q = i32(floor((f32(t) + 0.5) / f32(s)));
  return select(-1, q, t >= 0 && q * s == t && q < i32(size));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let ch = params.channels;
  let pix = div_u(i, ch);
  let c = i - pix * ch;
  let t = div_u(pix, params.src_w);
  let ix = pix - t * params.src_w;
  let local_img = div_u(t, params.src_h);
  let iy = t - local_img * params.src_h;
  let out_plane = (params.img_base + local_img) * params.dst_h;
  let o = params.img_base * params.src_h * params.src_w * ch + i;
  var s = 0.0;
  if (MODE == 2u) {
    var oy = div_u(iy * params.dst_h, params.src_h);
    loop {
      if (oy >= params.dst_h || div_u(oy * params.src_h, params.dst_h) > iy) { break; }
      let y1 = div_u((oy + 1u) * params.src_h + params.dst_h - 1u, params.dst_h);
      if (iy < y1) {
        let hcount = y1 - div_u(oy * params.src_h, params.dst_h);
        var ox = div_u(ix * params.dst_w, params.src_w);
        loop {
          if (ox >= params.dst_w || div_u(ox * params.src_w, params.dst_w) > ix) { break; }
          let x1 = div_u((ox + 1u) * params.src_w + params.dst_w - 1u, params.dst_w);
          if (ix < x1) {
            let wcount = x1 - div_u(ox * params.src_w, params.dst_w);
            s += g[((out_plane + oy) * params.dst_w + ox) * ch + c] / f32(hcount * wcount);
          }
          ox++;
        }
      }
      oy++;
    }
    dx[o] = s;
    return;
  }
  let me = i32(iy * params.src_w + ix);
  for (var ky = 0u; ky < params.kh; ky++) {
    let oy = window(iy, ky, 0u, params.dst_h);
    if (oy < 0) { continue; }
    for (var kx = 0u; kx < params.kw; kx++) {
      let ox = window(ix, kx, 1u, params.dst_w);
      if (ox < 0) { continue; }
      let at = ((out_plane + u32(oy)) * params.dst_w + u32(ox)) * ch + c;
      if (MODE == 0u) {
        if (indices[at] == me) { s += g[at]; }
      } else {
        s += g[at] / divisor(u32(oy), u32(ox));
      }
    }
  }
  dx[o] = s;
}
