// Cross-entropy and KD loss gradients on [B, C] logits with C a multiple of 4, rows read and
// written as vec4 (why: loss_vec4_forward.wgsl). Same roles and results as ce_backward /
// kd_backward in softmax.wgsl. The struct and row_of: row_lse.wgsl.
@group(0) @binding(0) var<storage, read> s: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> t: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn ce_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let n = params.cols / 4u;
  let base = row * n;
  let lse = vec4<f32>(stats[row]);
  let label = vec4<i32>(labels[row]);
  let scale = g[0] * params.grad_scale;
  for (var k = lid; k < n; k += WG) {
    let col = vec4<i32>(4 * i32(k)) + vec4<i32>(0, 1, 2, 3);
    let hot = select(vec4<f32>(0.0), vec4<f32>(1.0), col == label);
    out[base + k] = scale * (exp(s[base + k] - lse) - hot);
  }
}

@compute @workgroup_size(WG)
fn kd_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = row_of(wid);
  if (row >= params.rows) { return; }
  let n = params.cols / 4u;
  let base = row * n;
  let lse_s = vec4<f32>(stats[2u * row]);
  let lse_t = vec4<f32>(stats[2u * row + 1u]);
  let scale = g[0] * params.grad_scale;
  for (var k = lid; k < n; k += WG) {
    let ps = exp(s[base + k] * params.scale - lse_s);
    let pt = exp(t[base + k] * params.scale - lse_t);
    out[base + k] = scale * (ps - pt);
  }
}
