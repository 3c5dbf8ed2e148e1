// SGD over all parameters packed in one flat buffer (PyTorch 1.13 `_single_tensor_sgd`):
//   d ← g + wd·p;  buf ← d on a parameter's first step, else momentum·buf + (1−dampening)·d
//   d ← d + momentum·buf (nesterov) or buf;  p ← p − lr·d
// One segment per parameter; parameters without a grad this step are left untouched. Each
// workgroup updates one chunk of one parameter (`chunk_param`).
override WG: u32 = 256u;

struct Params {
  num_chunks: u32,
  groups_x: u32,
  nesterov: u32,
  _pad0: u32,
  lr: f32,
  momentum: f32,
  one_minus_dampening: f32,
  weight_decay: f32,
}

struct Segment {
  end: u32, // one past the parameter's last element
  live: u32,
  first: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> momentum_buffer: array<f32>;
@group(0) @binding(3) var<storage, read> chunk_param: array<u32>;
@group(0) @binding(4) var<storage, read> segments: array<Segment>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunk = wid.x + wid.y * params.groups_x;
  if (chunk >= params.num_chunks) { return; }
  let seg = segments[chunk_param[chunk]];
  let i = chunk * WG + lid;
  if (seg.live == 0u || i >= seg.end) { return; }
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
