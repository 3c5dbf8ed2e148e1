// Farthest-first traversal (k-center greedy) over a pool held row-major in chunks of vec4s
// (row r of a chunk: pool[r * wq .. r * wq + wq), zero-padded). `state[row]` holds the row's
// distance to its nearest center (-inf once selected) and that center's index in `centers`
// (labeled rows first, then the picks in order). One pick = `centers_step` (fold the previous
// partial argmaxes into the winner, record it, append its row to `centers`, and its distance to
// every earlier center into `cc`) + `update` (running minimum over the pool, partial argmaxes).
// Partials ping-pong between two halves of `parts`; a whole selection is recorded at once.
//
// Pruning (PRUNE): if row x's nearest center a is far from the new center c,
// d(a, c) >= 4 (1 + delta) d(x, a) (+ tau: rounding of 1 - cos), the triangle inequality on
// Euclidean distance (for 1 - cos: of unit vectors, d = e^2 / 2) gives d(x, c) >= d(x, a)
// beyond rounding, so min(d(x, a), d(x, c)) is d(x, a) exactly: x is skipped (its lane masked
// off: on CPU adapters a masked lane makes no loads). For squared Euclidean distance a row's
// sum also stops once it reaches d(x, a) (pool_to_center). The result is bit-identical
// to computing every distance in full (margins: pruneMargins in farthest.ts).
//
// METRIC: 0 squared Euclidean; 1 one minus dot (unit rows); 2 one minus (a.a')(b.b') with each
// row split into blocks a = vec4s [0, split_q) and b = [split_q, wq) (BADGE on a factorised
// gradient embedding); 3 squared Euclidean in that space, ||g||^2 in the x of the last vec4.
// Ties: the larger value wins, then the smaller global row index (a total order, so the result
// does not depend on the reduction's shape).
override METRIC: u32 = 0u;
override WG: u32 = 256u;
// Rows per thread in `update` (WG * RPT <= 1024 keeps workgroup memory within 16 KiB).
override RPT: u32 = 1u;
override PRUNE: bool = true;
// Set when the pool is in several chunks: `gather` copied the winner's row to `centers`.
override GATHERED: bool = false;
// `update` counts into `stats` (u32 pairs, low word first): rows visited, rows whose distance
// was computed (not pruned), vec4s of pool rows read.
override STATS: bool = false;

// init: TL labeled rows against IR pool rows per thread. 4 x 4 measured fastest on llvmpipe
// (labeled start of the bench's 50k x 100 pool: 8 x 1 175 ms, 8 x 2 133, 4 x 4 107, 8 x 4 251:
// its 32 accumulators spill).
const TL: u32 = 4u;
const IR: u32 = 4u;
// Squared Euclidean sums are tested against the row's minimum every STOP_TEST vec4s (every vec4:
// the test's cost outweighed the loads it saved, on llvmpipe).
const STOP_TEST: u32 = 4u;
const FAN: u32 = 16u;
const NONE: u32 = 0xffffffffu;

struct Params {
  n: u32, // rows in this chunk
  row0: u32, // global index of its first row
  wq: u32, // vec4s per row
  split_q: u32, // METRIC 2, 3: first vec4 of block b
  m_begin: u32, // init: labeled rows [m_begin, m_end) of `centers`
  m_end: u32,
  first: u32, // init: 1 starts the running minimum at +inf, 0 continues it
  parts: u32, // partials to fold
  part_in: u32,
  part_out: u32, // this chunk's first partial slot
  groups: u32, // workgroups with work in this dispatch
  groups_x: u32,
  step: u32, // pick number: out[step] is its row
  score_at: u32, // out[score_at + step] holds the bits of its distance
  center: u32, // row of `centers` the pick becomes (labeled count + step)
  slack: f32, // pruning: 4 (1 + delta)
  tau: f32, // pruning: absolute rounding allowance (1 - cos metrics)
  neg_inf: u32, // bits of -inf and +inf: WGSL constants cannot be infinite
  pos_inf: u32,
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> pool: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> centers: array<vec4<f32>>;
// (bits of the min-distance, index of the nearest center) per global row.
@group(0) @binding(2) var<storage, read_write> state: array<vec2<u32>>;
// cc[j]: distance from center j to the newest center.
@group(0) @binding(3) var<storage, read_write> cc: array<f32>;
@group(0) @binding(4) var<storage, read_write> parts: array<vec2<u32>>;
// picks[0..K], then the bits of their distances at score_at.
@group(0) @binding(5) var<storage, read_write> out: array<u32>;
@group(0) @binding(6) var<uniform> params: Params;
@group(0) @binding(7) var<storage, read_write> stats: array<atomic<u32>>;

// STATS: vec4s of pool rows this invocation has read in pool_to_center.
var<private> quads_read: u32 = 0u;

var<workgroup> red_v: array<f32, WG>;
var<workgroup> red_i: array<u32, WG>;

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

// vec4s of a row that enter dot products (METRIC 3 keeps ||g||^2 in the last one).
fn dot_q() -> u32 {
  return select(params.wq, params.wq - 1u, METRIC == 3u);
}

// Adds vec4 j of two rows into the accumulators of the metric.
fn accumulate(j: u32, x: vec4<f32>, y: vec4<f32>, a: ptr<function, vec4<f32>>,
              b: ptr<function, vec4<f32>>) {
  switch METRIC {
    case 0u: {
      let d = x - y;
      *a += d * d;
    }
    case 1u: {
      *a += x * y;
    }
    default: {
      if (j < params.split_q) {
        *a += x * y;
      } else {
        *b += x * y;
      }
    }
  }
}

fn hsum(v: vec4<f32>) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

// The distance from accumulated sums (nx, ny: ||g||^2 of both rows, METRIC 3).
fn distance(a: vec4<f32>, b: vec4<f32>, nx: f32, ny: f32) -> f32 {
  switch METRIC {
    case 0u: { return hsum(a); }
    case 1u: { return 1.0 - hsum(a); }
    case 2u: { return 1.0 - hsum(a) * hsum(b); }
    default: {
      // ||g||^2 + ||g'||^2 - 2 g.g' cancels near g = g': clamp the rounding below zero.
      return max(nx + ny - 2.0 * hsum(a) * hsum(b), 0.0);
    }
  }
}

// ||g||^2 of chunk row r / center row c (METRIC 3 only: other rows have no such vec4).
fn pool_norm(r: u32) -> f32 {
  if (METRIC != 3u) { return 0.0; }
  return pool[r * params.wq + params.wq - 1u].x;
}

fn center_norm(c: u32) -> f32 {
  if (METRIC != 3u) { return 0.0; }
  return centers[c * params.wq + params.wq - 1u].x;
}

// Distance of chunk row r to center c (summed in the order `init` sums), or (squared
// Euclidean, pruning) a partial sum that has reached `bound` already: each lane of the vec4
// sum only grows (squares are >= 0 and rounding is monotone), so the full distance would be
// >= bound too and the caller's `d < bound` is false either way.
fn pool_to_center(r: u32, c: u32, bound: f32) -> f32 {
  var a = vec4<f32>(0.0);
  var b = vec4<f32>(0.0);
  for (var j = 0u; j < dot_q(); j++) {
    accumulate(j, pool[r * params.wq + j], centers[c * params.wq + j], &a, &b);
    if (STATS) {
      quads_read++;
    }
    if (PRUNE && METRIC == 0u && j % STOP_TEST == STOP_TEST - 1u && hsum(a) >= bound) {
      return hsum(a);
    }
  }
  return distance(a, b, pool_norm(r), center_norm(c));
}

// Running minimum against labeled rows [m_begin, m_end) of `centers`, TL at a time, IR rows
// per thread (rows g WG IR + i WG + lid): each center load serves IR rows and each pool load
// TL centers, and shared loads are what bound this loop on CPU adapters. The first partials.
@compute @workgroup_size(WG)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * params.groups_x;
  if (g >= params.groups) { return; } // uniform per workgroup
  var best: array<f32, IR>;
  var arg: array<u32, IR>;
  var rows: array<u32, IR>;
  for (var i = 0u; i < IR; i++) {
    // Rows past the end compute on the last row and are dropped.
    rows[i] = min(g * WG * IR + i * WG + lid, params.n - 1u);
    best[i] = bitcast<f32>(params.pos_inf);
    arg[i] = NONE;
    if (params.first == 0u) {
      let s = state[params.row0 + rows[i]];
      best[i] = bitcast<f32>(s.x);
      arg[i] = s.y;
    }
  }
  let q = dot_q();
  for (var l0 = params.m_begin; l0 < params.m_end; l0 += TL) {
    let last = min(TL, params.m_end - l0) - 1u;
    // Explicitly zeroed: llvmpipe kept a loop-scoped `var acc: array<..., TL>;` across trips.
    var a = array<vec4<f32>, IR * TL>();
    var b = array<vec4<f32>, IR * TL>();
    for (var j = 0u; j < q; j++) {
      var x: array<vec4<f32>, IR>;
      for (var i = 0u; i < IR; i++) {
        x[i] = pool[rows[i] * params.wq + j];
      }
      for (var t = 0u; t < TL; t++) {
        let y = centers[(l0 + min(t, last)) * params.wq + j];
        for (var i = 0u; i < IR; i++) {
          // Through locals: naga (Deno's WebGPU) fails on pointers into indexed arrays.
          var at = a[i * TL + t];
          var bt = b[i * TL + t];
          accumulate(j, x[i], y, &at, &bt);
          a[i * TL + t] = at;
          b[i * TL + t] = bt;
        }
      }
    }
    for (var i = 0u; i < IR; i++) {
      for (var t = 0u; t <= last; t++) {
        let d = distance(a[i * TL + t], b[i * TL + t], pool_norm(rows[i]), center_norm(l0 + t));
        if (d < best[i]) {
          best[i] = d;
          arg[i] = l0 + t;
        }
      }
    }
  }
  var bv = bitcast<f32>(params.neg_inf);
  var bi = NONE;
  for (var i = 0u; i < IR; i++) {
    let r = g * WG * IR + i * WG + lid;
    if (r < params.n) {
      state[params.row0 + r] = vec2<u32>(bitcast<u32>(best[i]), arg[i]);
      if (better(best[i], params.row0 + r, bv, bi)) {
        bv = best[i];
        bi = params.row0 + r;
      }
    }
  }
  write_partial(lid, g, bv, bi);
}

// A pool in several chunks: the chunk holding the previous winner copies its row to `centers`.
@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  previous_winner(lid);
  let win = red_i[0];
  record_pick(lid, wid.x);
  if (win >= params.row0 && win - params.row0 < params.n) {
    let r = win - params.row0;
    for (var j = lid; j < params.wq; j += WG) {
      centers[params.center * params.wq + j] = pool[r * params.wq + j];
    }
  }
}

// The pick's winner becomes center `center`; cc[i] = its distance to every earlier center i.
@compute @workgroup_size(WG)
fn centers_step(@builtin(workgroup_id) wid: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * params.groups_x;
  if (g >= params.groups) { return; } // uniform per workgroup
  var win = 0u;
  if (!GATHERED) {
    // One chunk holds the whole pool: fold, record and copy here.
    previous_winner(lid);
    win = min(red_i[0], params.n - 1u);
    record_pick(lid, g);
    if (g == 0u) {
      for (var j = lid; j < params.wq; j += WG) {
        centers[params.center * params.wq + j] = pool[win * params.wq + j];
      }
    }
  }
  let i = g * WG + lid;
  if (PRUNE && i < params.center) {
    var a = vec4<f32>(0.0);
    var b = vec4<f32>(0.0);
    let q = dot_q();
    for (var j = 0u; j < q; j++) {
      var y: vec4<f32>;
      if (GATHERED) {
        y = centers[params.center * params.wq + j];
      } else {
        y = pool[win * params.wq + j];
      }
      accumulate(j, centers[i * params.wq + j], y, &a, &b);
    }
    cc[i] = distance(a, b, 0.0, 0.0);
  }
}

@compute @workgroup_size(WG)
fn update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * params.groups_x;
  if (g >= params.groups) { return; } // uniform per workgroup
  let win = out[params.step];
  let base = g * WG * RPT;
  // RPT as a runtime trip count (n never reaches 2^32 - 1): llvmpipe's LLVM took 1.5 minutes to
  // compile this loop fully unrolled at RPT 16, and seconds as a loop.
  let rpt = select(RPT, 1u, params.n == 0xffffffffu);
  var bv = bitcast<f32>(params.neg_inf);
  var bi = NONE;
  var visited = 0u;
  var computed = 0u;
  for (var k = 0u; k < rpt; k++) {
    let r = base + k * WG + lid;
    if (r >= params.n) { break; }
    let gi = params.row0 + r;
    let s = state[gi];
    var md = bitcast<f32>(s.x);
    if (gi == win) {
      state[gi] = vec2<u32>(params.neg_inf, s.y);
      md = bitcast<f32>(params.neg_inf);
    } else if (s.x != params.neg_inf) {
      visited++;
      // A pruned row keeps its minimum (see the header); on CPU adapters its lane is masked
      // off, so its pool loads are not made.
      if (!PRUNE || s.y == NONE || cc[s.y] < params.slack * md + params.tau) {
        computed++;
        let d = pool_to_center(r, params.center, md);
        if (d < md) {
          md = d;
          state[gi] = vec2<u32>(bitcast<u32>(d), params.center);
        }
      }
    }
    if (better(md, gi, bv, bi)) {
      bv = md;
      bi = gi;
    }
  }
  if (STATS) {
    count(0u, visited);
    count(2u, computed);
    count(4u, quads_read);
  }
  write_partial(lid, g, bv, bi);
}

// Adds x to the u32 pair at stats[at] (a carry per add: totals pass 2^32 at the largest pools).
fn count(at: u32, x: u32) {
  let old = atomicAdd(&stats[at], x);
  if (old + x < old) {
    atomicAdd(&stats[at + 1u], 1u);
  }
}

// The last fold: the farthest row left (the coverage radius after selection) into out[step].
@compute @workgroup_size(WG)
fn reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  previous_winner(lid);
  record_pick(lid, wid.x);
}
