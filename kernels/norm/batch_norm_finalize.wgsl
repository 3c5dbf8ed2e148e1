// Per-channel BatchNorm statistics from the chunk partials of batch_norm_reduce, one invocation
// per channel, chunks combined in order (deterministic).
// MODE 0 (training): Chan's pairwise combination of the chunk means and M2 → batch mean and
//   biased variance; out = [mean, invstd, scale, shift] with invstd = 1/√(var + eps),
//   scale = invstd·weight, shift = bias − mean·scale. With UPDATE_RUNNING, as PyTorch:
//   running_mean ← (1−m)·running_mean + m·mean, running_var ← (1−m)·running_var + m·var·P/(P−1)
//   (unbiased), and num_batches_tracked += 1.
// MODE 1 (backward): out = [Σ g', Σ g'·x̂] summed over chunks.
// MODE 2 (evaluation): out = [running_mean, invstd, scale, shift] from the running statistics.

override MODE: u32 = 0u;
override UPDATE_RUNNING: bool = false;
override HAS_AFFINE: bool = true;

struct Params {
  channels: u32,
  chunks: u32,
  pixels: u32,
  chunk: u32,
  momentum: f32,
  eps: f32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(5) var<storage, read_write> batches: array<i32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

fn write_stats(c: u32, mean: f32, variance: f32) {
  let ch = params.channels;
  let invstd = 1.0 / sqrt(variance + params.eps);
  var scale = invstd;
  var shift = -mean * invstd;
  if (HAS_AFFINE) {
    scale = invstd * weight[c];
    shift = bias[c] - mean * scale;
  }
  out[c] = mean;
  out[ch + c] = invstd;
  out[2u * ch + c] = scale;
  out[3u * ch + c] = shift;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let ch = params.channels;
  if (c >= ch) { return; }
  if (MODE == 2u) {
    write_stats(c, running_mean[c], running_var[c]);
    return;
  }
  if (MODE == 1u) {
    var s0 = 0.0;
    var s1 = 0.0;
    for (var k = 0u; k < params.chunks; k++) {
      s0 += partial[(2u * k) * ch + c];
      s1 += partial[(2u * k + 1u) * ch + c];
    }
    out[c] = s0;
    out[ch + c] = s1;
    return;
  }
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var k = 0u; k < params.chunks; k++) {
    let nb = f32(min(params.chunk, params.pixels - k * params.chunk));
    let mb = partial[(2u * k) * ch + c];
    let total = n + nb;
    let delta = mb - mean;
    mean += delta * nb / total;
    m2 += partial[(2u * k + 1u) * ch + c] + delta * delta * n * nb / total;
    n = total;
  }
  let variance = m2 / n;
  write_stats(c, mean, variance);
  if (UPDATE_RUNNING) {
    let m = params.momentum;
    running_mean[c] = (1.0 - m) * running_mean[c] + m * mean;
    let unbiased = m2 / max(n - 1.0, 1.0);
    running_var[c] = (1.0 - m) * running_var[c] + m * unbiased;
    if (c == 0u) { batches[0] += 1; }
  }
}
