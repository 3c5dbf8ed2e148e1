import assert from "node:assert/strict";
import { gpuTest } from "../../gpu.ts";
import { scopeAsync } from "../../../engine/tensor.ts";
import { philox4x32, Rng, type U32x2, type U32x4 } from "../../../engine/rng.ts";
import { philoxBlocks, randomBits } from "../../../engine/ops/random.ts";
import { PHILOX_KAT } from "../philox_kat.ts";

gpuTest("philox_blocks: Random123 known-answer vectors (philox4x32_10) on the GPU", async () => {
  await scopeAsync(async () => {
    for (const [counter, key, expected] of PHILOX_KAT) {
      const got = await philoxBlocks(key, counter, 1).toArray();
      assert.deepEqual(got, expected, `counter [${counter}] key [${key}]`);
    }
  });
});

gpuTest("philox_blocks: block i is the CPU Philox of (counter.x + i, counter.yzw)", async () => {
  // 1000 blocks: several workgroups, a partial last one, high words and word 0 near its top.
  const key: U32x2 = [0xdeadbeef, 0x01234567];
  const counter: U32x4 = [2 ** 32 - 1000, 7, 0x80000000, 3];
  await scopeAsync(async () => {
    const got = await philoxBlocks(key, counter, 1000).toArray();
    const expected = Array.from(
      { length: 1000 },
      (_, i) => philox4x32([counter[0] + i, 7, 0x80000000, 3], key),
    ).flat();
    assert.deepEqual(got, expected);
  });
  assert.throws(() => philoxBlocks(key, counter, 1001), /carry out of word 0/);
  assert.throws(() => philoxBlocks([1, 2 ** 32], counter, 1), /uint32/);
});

gpuTest(
  "randomBits: the GPU draws the host stream's next blocks; the stream moves past them",
  async () => {
    const rng = Rng.fromSeed(42).stream("gpu");
    rng.nextU32(); // mid-block: reserveBlocks skips the rest of block 0
    const twin = Rng.fromSeed(42).stream("gpu");
    await scopeAsync(async () => {
      const got = await randomBits(rng, 37).toArray();
      const expected = Array.from({ length: 37 }, (_, i) => philox4x32([1 + i, 0, 0, 0], twin.key));
      assert.deepEqual(got, expected.flat());
    });
    assert.deepEqual(rng.counter, [38, 0, 0, 0]);
  },
);
