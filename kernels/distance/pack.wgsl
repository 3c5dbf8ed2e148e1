// Packs row-major rows (src[r * w_src + c]) into the rows farthest.wgsl reads: row-major,
// wq vec4s (4 * wq floats) per row, blocks zero-padded to whole vec4s, transforming each row
// on the way. Flags bad input: the global index of the first offending row goes to
// flags[flag_at + kind] by atomicMin (kind 0: NaN or Inf in src; 1: a src row that is not a
// probability vector; 2: NaN or Inf in src2), so the host can name it. pack_badge also records
// kind 3: the first row whose embedding is not (numerically) zero, BADGE's first pick.
// One thread per row.
override WG: u32 = 256u;
// pack_badge: true L2-normalises the gradient embedding g (BADGE's 1 - cos); false keeps g and
// puts ||g||^2 in an extra last vec4 (k-means++ seeding in squared Euclidean distance).
override NORMALISE: bool = true;

// F.normalize's epsilon: x / max(||x||, 1e-12).
const EPS: f32 = 1e-12;

struct Params {
  n: u32, // rows in this chunk
  row0: u32, // global index of its first row
  w_src: u32, // src columns
  d_src: u32, // src2 columns (pack_badge)
  wq: u32, // vec4s per dst row
  split: u32, // pack_badge: first float of block b (w_src rounded up to 4)
  groups_x: u32,
  flag_at: u32,
  check_prob: u32, // 1: src rows must be probabilities (entries >= 0, |sum - 1| <= tol)
  tol: f32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> src2: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> flags: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

// Inf or NaN, tested on the bits: compilers may fold float tests under finite-math assumptions.
fn not_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) >= 0x7f800000u;
}

fn row_of(wid: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * params.groups_x) * WG + lid;
}

// Scans src row r, flags it, returns the index of its first maximum.
fn check_src(r: u32) -> u32 {
  var bad = false;
  var neg = false;
  var s = 0.0;
  var best = src[r * params.w_src];
  var arg = 0u;
  for (var c = 0u; c < params.w_src; c++) {
    let x = src[r * params.w_src + c];
    bad = bad || not_finite(x);
    neg = neg || x < 0.0;
    s += x;
    if (x > best) {
      best = x;
      arg = c;
    }
  }
  if (bad) {
    atomicMin(&flags[params.flag_at], params.row0 + r);
  } else if (params.check_prob == 1u && (neg || abs(s - 1.0) > params.tol)) {
    atomicMin(&flags[params.flag_at + 1u], params.row0 + r);
  }
  return arg;
}

// Zeroes dst floats [start, 4 wq) of row r.
fn pad_row(r: u32, start: u32) {
  for (var c = start; c < 4u * params.wq; c++) {
    dst[r * 4u * params.wq + c] = 0.0;
  }
}

// Rows as they are (probability space, squared Euclidean distance).
@compute @workgroup_size(WG)
fn pack_copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_of(wid, lid);
  if (r >= params.n) { return; }
  check_src(r);
  for (var c = 0u; c < params.w_src; c++) {
    dst[r * 4u * params.wq + c] = src[r * params.w_src + c];
  }
  pad_row(r, params.w_src);
}

// Rows already where pack_copy would put them (whole vec4s, no padding: the host wrote them
// straight into the chunk, bound as src): only the checks. dst is not touched.
@compute @workgroup_size(WG)
fn check_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_of(wid, lid);
  if (r >= params.n) { return; }
  check_src(r);
}

// L2-normalised rows (1 - cos).
@compute @workgroup_size(WG)
fn pack_unit(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_of(wid, lid);
  if (r >= params.n) { return; }
  check_src(r);
  var n2 = 0.0;
  for (var c = 0u; c < params.w_src; c++) {
    let x = src[r * params.w_src + c];
    n2 += x * x;
  }
  let den = max(sqrt(n2), EPS);
  for (var c = 0u; c < params.w_src; c++) {
    dst[r * 4u * params.wq + c] = src[r * params.w_src + c] / den;
  }
  pad_row(r, params.w_src);
}

// BADGE's gradient embedding g = (onehot(argmax p) - p) (outer) h without forming it:
// g.g' = (a.a')(b.b') with a = onehot - p (C columns) and b = h (D columns). NORMALISE scales
// a and b so that (a.a')(b.b') is the dot product of the normalised g's, as F.normalize(g)
// would give (its epsilon included); otherwise a, b unscaled and ||g||^2 appended.
@compute @workgroup_size(WG)
fn pack_badge(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_of(wid, lid);
  if (r >= params.n) { return; }
  let arg = check_src(r);
  let nc = params.w_src;
  let nd = params.d_src;
  var dn2 = 0.0;
  for (var c = 0u; c < nc; c++) {
    let d = select(0.0, 1.0, c == arg) - src[r * nc + c];
    dn2 += d * d;
  }
  var hn2 = 0.0;
  var bad = false;
  for (var c = 0u; c < nd; c++) {
    let h = src2[r * nd + c];
    bad = bad || not_finite(h);
    hn2 += h * h;
  }
  if (bad) {
    atomicMin(&flags[params.flag_at + 2u], params.row0 + r);
  }
  let hn = sqrt(hn2);
  if (sqrt(dn2) * hn >= EPS) {
    atomicMin(&flags[params.flag_at + 3u], params.row0 + r);
  }
  var sa = 1.0;
  var sb = 1.0;
  if (NORMALISE) {
    sa = hn / max(sqrt(dn2) * hn, EPS);
    sb = select(0.0, 1.0 / hn, hn > 0.0);
  }
  pad_row(r, 0u);
  let o = r * 4u * params.wq;
  for (var c = 0u; c < nc; c++) {
    dst[o + c] = (select(0.0, 1.0, c == arg) - src[r * nc + c]) * sa;
  }
  for (var c = 0u; c < nd; c++) {
    dst[o + params.split + c] = src2[r * nd + c] * sb;
  }
  if (!NORMALISE) {
    dst[o + 4u * params.wq - 4u] = dn2 * hn2;
  }
}
