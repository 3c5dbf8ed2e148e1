// Philox4x32-10 (Salmon et al. 2011, Random123), the same generator as engine/rng.ts: the host
// passes a stream's key and a counter from Rng.reserveBlocks, and block i of that range is
// philox4x32_10(vec4<u32>(counter.x + i, counter.yzw), key). `philox_blocks` writes those blocks
// (engine/ops/random.ts); a kernel that draws its own numbers can reuse philox4x32_10.
override WG: u32 = 64u;

struct Params {
  counter: vec4<u32>,
  key: vec2<u32>,
  blocks: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<vec4<u32>>;
@group(0) @binding(1) var<uniform> params: Params;

const PHILOX_M0: u32 = 0xd2511f53u;
const PHILOX_M1: u32 = 0xcd9e8d57u;
const PHILOX_W0: u32 = 0x9e3779b9u; // golden ratio
const PHILOX_W1: u32 = 0xbb67ae85u; // sqrt(3) - 1

// (high, low) 32 bits of the 64-bit product a * b. WGSL has no 64-bit integers, so the high
// word comes from 16-bit halves, whose partial products all fit in 32 bits.
fn philox_mulhilo(a: u32, b: u32) -> vec2<u32> {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  let hi = ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b); // u32 multiplication wraps: the low word
}

fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var i = 0u; i < 10u; i++) {
    if (i > 0u) {
      k += vec2<u32>(PHILOX_W0, PHILOX_W1);
    }
    let p0 = philox_mulhilo(PHILOX_M0, c.x);
    let p1 = philox_mulhilo(PHILOX_M1, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}

@compute @workgroup_size(WG)
fn philox_blocks(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.groups_x * WG;
  if (i >= params.blocks) { return; }
  let c = params.counter;
  out[i] = philox4x32_10(vec4<u32>(c.x + i, c.y, c.z, c.w), params.key);
}
