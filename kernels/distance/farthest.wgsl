// Farthest-first traversal (k-center greedy) over a pool held column-major in chunks: element
// (row r, column c) of a chunk is float c * stride + r, stride = its row count rounded up to 4.
// `pool` reads it as vec4s of 4 consecutive rows, so one load serves 4 rows (CPU adapters pay
// per load) and the threads of a workgroup read consecutive addresses (GPUs pay per
// transaction). `mindist` holds every pool row's distance to its nearest center (-inf once
// selected), also as vec4s. Each dispatch of `update` is one pick: it folds the previous step's
// per-workgroup argmax partials into the winner, records it, takes its row as the newest
// center, updates the running minimum of its rows and writes its own partial. Partials
// ping-pong between two halves of `parts`, so a pick never waits on the host.
//
// METRIC: 0 squared Euclidean; 1 one minus dot (unit rows); 2 one minus (a.a')(b.b') with the
// row split into blocks a = [0, split) and b = [split, w) (BADGE on a factorised gradient
// embedding); 3 squared Euclidean in that factorised space, ||g||^2 in the last column.
// Ties: the larger value wins, then the smaller global row index (a total order, so the result
// does not depend on the reduction's shape).
override METRIC: u32 = 0u;
override WG: u32 = 256u;
// vec4s of rows per thread in `update` (at most MAX_RPT): fewer, fuller workgroups on CPUs.
override RPT: u32 = 1u;
// Center columns staged in workgroup memory per pass.
override TILE_C: u32 = 1024u;
// Labeled columns staged per pass in `init` (with TL labeled rows).
override TC: u32 = 128u;
// Set when the newest center comes from `center_out` of a `gather` (a pool in several chunks).
override GATHERED: bool = false;

const MAX_RPT: u32 = 4u;
const TL: u32 = 8u;
const FAN: u32 = 16u;
const NONE: u32 = 0xffffffffu;

struct Params {
  n: u32, // rows in this chunk
  stride: u32, // n rounded up to 4: floats per column of the chunk
  row0: u32, // global index of the chunk's first row (a multiple of 4)
  w: u32, // row width
  split: u32, // METRIC 2, 3: first column of block b
  m: u32, // labeled rows in `centers` (init)
  m_stride: u32, // floats per column of `centers` (init)
  m_begin: u32, // labeled rows [m_begin, m_end) in this dispatch (init)
  m_end: u32,
  first: u32, // init: 1 starts the running minimum at +inf, 0 continues it
  parts: u32, // partials to fold (update, gather, reduce)
  part_in: u32,
  part_out: u32, // this chunk's first partial slot
  groups: u32, // workgroups with rows in this chunk
  groups_x: u32,
  step: u32, // pick number written to out[step]
  score_at: u32, // out[score_at + step] holds the pick's distance bits
  neg_inf: u32, // bits of -inf and +inf: WGSL constants cannot be infinite
  pos_inf: u32,
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> pool: array<vec4<f32>>;
// init: labeled rows, column-major [w, m_stride]; update: the newest center's source (the pool
// itself when one chunk holds it, else the row `gather` copied); gather: bound to the pool.
@group(0) @binding(1) var<storage, read> centers: array<f32>;
@group(0) @binding(2) var<storage, read_write> mindist: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> parts: array<vec2<u32>>;
// picks[0..K], then the bits of their distances at score_at.
@group(0) @binding(4) var<storage, read_write> out: array<u32>;
@group(0) @binding(5) var<storage, read_write> center_out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

var<workgroup> red_v: array<f32, WG>;
var<workgroup> red_i: array<u32, WG>;
var<workgroup> ctile: array<f32, TILE_C>;
var<workgroup> ltile: array<f32, TL * TC>;

fn better(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

// Argmax of red_* into slot 0: FAN lanes fold strided sets, then lane 0 folds those. Three
// barriers instead of log2(WG): on CPU adapters every barrier switches all invocations.
fn argmax_slot0(lid: u32) {
  workgroupBarrier();
  if (lid < FAN) {
    var bv = red_v[lid];
    var bi = red_i[lid];
    for (var j = lid + FAN; j < WG; j += FAN) {
      if (better(red_v[j], red_i[j], bv, bi)) {
        bv = red_v[j];
        bi = red_i[j];
      }
    }
    red_v[lid] = bv;
    red_i[lid] = bi;
  }
  workgroupBarrier();
  if (lid == 0u) {
    for (var j = 1u; j < FAN; j++) {
      if (better(red_v[j], red_i[j], red_v[0], red_i[0])) {
        red_v[0] = red_v[j];
        red_i[0] = red_i[j];
      }
    }
  }
  workgroupBarrier();
}

// The winner of the previous step, folded from its partials in the same order everywhere.
fn previous_winner(lid: u32) {
  var bv = bitcast<f32>(params.neg_inf);
  var bi = NONE;
  for (var j = lid; j < params.parts; j += WG) {
    let p = parts[params.part_in + j];
    let v = bitcast<f32>(p.x);
    if (better(v, p.y, bv, bi)) {
      bv = v;
      bi = p.y;
    }
  }
  red_v[lid] = bv;
  red_i[lid] = bi;
  argmax_slot0(lid);
}

fn record_pick(lid: u32, g: u32) {
  if (g == 0u && lid == 0u && params.row0 == 0u) {
    out[params.step] = red_i[0];
    out[params.score_at + params.step] = bitcast<u32>(red_v[0]);
  }
}

fn write_partial(lid: u32, g: u32, v: f32, i: u32) {
  red_v[lid] = v;
  red_i[lid] = i;
  argmax_slot0(lid);
  if (lid == 0u) {
    parts[params.part_out + g] = vec2<u32>(bitcast<u32>(red_v[0]), red_i[0]);
  }
}

// Folds the first min(valid, 4) of 4 rows starting at global row `gi` into (best, arg).
fn fold4(md: vec4<f32>, gi: u32, valid: u32, best: ptr<function, f32>, arg: ptr<function, u32>) {
  for (var j = 0u; j < min(valid, 4u); j++) {
    if (better(md[j], gi + j, *best, *arg)) {
      *best = md[j];
      *arg = gi + j;
    }
  }
}

@compute @workgroup_size(WG)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * params.groups_x;
  if (g >= params.groups) { return; } // uniform per workgroup
  let q = g * WG + lid; // this thread's vec4 of rows
  let nq = params.stride / 4u;
  let valid = q < nq;
  var best = vec4<f32>(bitcast<f32>(params.pos_inf));
  if (valid && params.first == 0u) {
    best = mindist[params.row0 / 4u + q];
  }
  for (var l0 = params.m_begin; l0 < params.m_end; l0 += TL) {
    let ln = min(TL, params.m_end - l0);
    // Explicitly zeroed: llvmpipe kept a loop-scoped `var acc: array<..., TL>;` across trips.
    var acc = array<vec4<f32>, TL>();
    for (var c0 = 0u; c0 < params.w; c0 += TC) {
      let cn = min(TC, params.w - c0);
      workgroupBarrier();
      for (var e = lid; e < TL * TC; e += WG) {
        let t = e / TC;
        let c = e % TC;
        if (t < ln && c < cn) {
          ltile[e] = centers[(c0 + c) * params.m_stride + l0 + t];
        }
      }
      workgroupBarrier();
      if (valid) {
        for (var c = 0u; c < cn; c++) {
          let x = pool[(c0 + c) * nq + q];
          for (var t = 0u; t < TL; t++) {
            let y = ltile[t * TC + c];
            if (METRIC == 0u) {
              let d = x - y;
              acc[t] += d * d;
            } else {
              acc[t] += x * y;
            }
          }
        }
      }
    }
    for (var t = 0u; t < ln; t++) {
      best = min(best, select(1.0 - acc[t], acc[t], METRIC == 0u));
    }
  }
  var bv = bitcast<f32>(params.neg_inf);
  var bi = NONE;
  if (valid) {
    mindist[params.row0 / 4u + q] = best;
    fold4(best, params.row0 + 4u * q, params.n - 4u * q, &bv, &bi);
  }
  write_partial(lid, g, bv, bi);
}

@compute @workgroup_size(WG)
fn update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * params.groups_x;
  if (g >= params.groups) { return; } // uniform per workgroup
  previous_winner(lid);
  let win = red_i[0];
  record_pick(lid, g);
  let nq = params.stride / 4u;
  // One chunk: the center is row `win` of the pool itself; else row 0 of the gathered copy.
  let ccol = select(min(win, params.n - 1u), 0u, GATHERED);
  let cstride = select(params.stride, 1u, GATHERED);
  let wdot = select(params.w, params.w - 1u, METRIC == 3u);
  let base = g * WG * RPT + lid;
  var acc_a = array<vec4<f32>, MAX_RPT>();
  var acc_b = array<vec4<f32>, MAX_RPT>();
  for (var c0 = 0u; c0 < wdot; c0 += TILE_C) {
    let cn = min(TILE_C, wdot - c0);
    workgroupBarrier();
    for (var c = lid; c < cn; c += WG) {
      ctile[c] = centers[(c0 + c) * cstride + ccol];
    }
    workgroupBarrier();
    // Columns outer, rows inner: each staged center value is read once for RPT vec4s.
    // Rows past the chunk read its last vec4 (clamped, so no branch); they are never folded.
    if (METRIC == 0u) {
      for (var c = 0u; c < cn; c++) {
        let y = ctile[c];
        let col = (c0 + c) * nq;
        for (var k = 0u; k < RPT; k++) {
          let d = pool[col + min(base + k * WG, nq - 1u)] - y;
          acc_a[k] += d * d;
        }
      }
    } else if (METRIC == 1u) {
      for (var c = 0u; c < cn; c++) {
        let y = ctile[c];
        let col = (c0 + c) * nq;
        for (var k = 0u; k < RPT; k++) {
          acc_a[k] += pool[col + min(base + k * WG, nq - 1u)] * y;
        }
      }
    } else {
      for (var c = 0u; c < cn; c++) {
        let y = ctile[c];
        let col = (c0 + c) * nq;
        let in_a = c0 + c < params.split;
        for (var k = 0u; k < RPT; k++) {
          let p = pool[col + min(base + k * WG, nq - 1u)] * y;
          acc_a[k] += select(vec4<f32>(0.0), p, in_a);
          acc_b[k] += select(p, vec4<f32>(0.0), in_a);
        }
      }
    }
  }
  var lv = bitcast<f32>(params.neg_inf);
  var li = NONE;
  for (var k = 0u; k < RPT; k++) {
    let q = base + k * WG;
    if (q < nq) {
      var d: vec4<f32>;
      switch METRIC {
        case 0u: { d = acc_a[k]; }
        case 1u: { d = 1.0 - acc_a[k]; }
        case 2u: { d = 1.0 - acc_a[k] * acc_b[k]; }
        default: {
          // ||g||^2 + ||g'||^2 - 2 g.g' cancels near g = g': clamp the rounding below zero.
          let nr = pool[wdot * nq + q];
          let nc = centers[wdot * cstride + ccol];
          d = max(nr + nc - 2.0 * acc_a[k] * acc_b[k], vec4<f32>(0.0));
        }
      }
      let gi = params.row0 + 4u * q;
      let at = params.row0 / 4u + q;
      let chosen = vec4<u32>(gi, gi + 1u, gi + 2u, gi + 3u) == vec4<u32>(win);
      let md = select(min(mindist[at], d), vec4<f32>(bitcast<f32>(params.neg_inf)), chosen);
      mindist[at] = md;
      fold4(md, gi, params.n - 4u * q, &lv, &li);
    }
  }
  write_partial(lid, g, lv, li);
}

// A pool in several chunks: the chunk holding the previous winner copies its row to center_out.
@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  previous_winner(lid);
  let win = red_i[0];
  record_pick(lid, wid.x);
  if (win >= params.row0 && win - params.row0 < params.n) {
    let r = win - params.row0;
    for (var c = lid; c < params.w; c += WG) {
      center_out[c] = pool[(c * params.stride + r) / 4u][r % 4u];
    }
  }
}

// The last fold: the farthest row left (the coverage radius after selection) into out[step].
@compute @workgroup_size(WG)
fn reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  previous_winner(lid);
  record_pick(lid, wid.x);
}
