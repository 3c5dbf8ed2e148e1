// AdamW over all parameters packed in one flat buffer (PyTorch 1.13 `_single_tensor_adamw`):
//   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g·g
//   p ← p − step_size · m / (√v / √bc2 + eps),  step_size = lr / bc1
// Bias corrections depend on each parameter's own step count, so they come per parameter
// (`segments`, computed on the host in float64); parameters without a grad this step are left
// untouched, as PyTorch skips them. Each workgroup updates one chunk of one parameter
// (`chunk_param`): parameters start on chunk boundaries in the flat buffers.
override WG: u32 = 256u;

struct Params {
  num_chunks: u32,
  groups_x: u32,
  _pad0: u32,
  _pad1: u32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  _pad2: f32,
  _pad3: f32,
  _pad4: f32,
}

struct Segment {
  end: u32, // one past the parameter's last element
  live: u32,
  _pad0: u32,
  _pad1: u32,
  step_size: f32,
  bc2_sqrt: f32,
  decay: f32,
  _pad2: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> exp_avg: array<f32>;
@group(0) @binding(3) var<storage, read_write> exp_avg_sq: array<f32>;
@group(0) @binding(4) var<storage, read> chunk_param: array<u32>;
@group(0) @binding(5) var<storage, read> segments: array<Segment>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunk = wid.x + wid.y * params.groups_x;
  if (chunk >= params.num_chunks) { return; }
  let seg = segments[chunk_param[chunk]];
  let i = chunk * WG + lid;
  if (seg.live == 0u || i >= seg.end) { return; }
  let g = grad[i];
  let p = param[i] * seg.decay;
  let m = exp_avg[i] * params.beta1 + params.one_minus_beta1 * g;
  let v = exp_avg_sq[i] * params.beta2 + params.one_minus_beta2 * g * g;
  let denom = sqrt(v) / seg.bc2_sqrt + params.eps;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  param[i] = p - seg.step_size * (m / denom);
}
