// SGD over all parameters packed in one flat buffer (PyTorch 1.13 `_single_tensor_sgd`):
//   d ← g + wd·p;  buf ← d on a parameter's first step, else momentum·buf + (1−dampening)·d
//   d ← d + momentum·buf (nesterov) or buf;  p ← p − lr·d
// One segment per parameter; inactive segments (no grad this step) are left untouched.
override WG: u32 = 256u;

struct Params {
  n: u32,
  num_segments: u32,
  groups_x: u32,
  nesterov: u32,
  lr: f32,
  momentum: f32,
  one_minus_dampening: f32,
  weight_decay: f32,
}

struct Segment {
  start: u32,
  live: u32,
  first: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> momentum_buffer: array<f32>;
@group(0) @binding(3) var<storage, read> segments: array<Segment>;
@group(0) @binding(4) var<uniform> params: Params;

fn find_segment(i: u32) -> u32 {
  var lo = 0u;
  var hi = params.num_segments - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (segments[mid].start <= i) { lo = mid; } else { hi = mid - 1u; }
  }
  return lo;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.n) { return; }
  let seg = segments[find_segment(i)];
  if (seg.live == 0u) { return; }
  let p = param[i];
  var d = grad[i];
  if (params.weight_decay != 0.0) { d = d + params.weight_decay * p; }
  if (params.momentum != 0.0) {
    var buf = d;
    if (seg.first == 0u) {
      buf = momentum_buffer[i] * params.momentum + params.one_minus_dampening * d;
    }
    momentum_buffer[i] = buf;
    d = select(buf, d + params.momentum * buf, params.nesterov != 0u);
  }
  param[i] = p - params.lr * d;
}
