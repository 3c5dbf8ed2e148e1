import assert from "node:assert/strict";
import { join } from "node:path";
import { logitsFileTeacher } from "../../../al/teachers/logits_file.ts";
import { silentProgress } from "../../../al/progress.ts";
import { Rng } from "../../../engine/rng.ts";
import { saveSafetensors } from "../../../engine/safetensors.ts";
import { InputError } from "../../../engine/errors.ts";
import { tinyData, tinySet, withTempDir } from "./tiny.ts";

const C = 3;

Deno.test("logits:FILE picks the rows of the images in play", async () => {
  await withTempDir(async (dir) => {
    const train = tinySet(8, C);
    const test = tinySet(4, C, 1);
    const data = tinyData(train, test, C); // train in play: 0 1 2 4 5 6
    const file = join(dir, "t.safetensors");
    const trainLogits = Float32Array.from({ length: 8 * C }, (_, k) => k);
    const testLogits = Float32Array.from({ length: 4 * C }, (_, k) => -k);
    await saveSafetensors(file, {
      train: { dtype: "f32", shape: [8, C], data: trainLogits },
      test: { dtype: "f32", shape: [4, C], data: testLogits },
    });
    const teacher = await logitsFileTeacher(file, data, 8, 4);
    const l = await teacher.forRound(
      0,
      new Int32Array(),
      undefined,
      Rng.fromSeed(0),
      silentProgress,
    );
    assert.deepEqual(Array.from(l.train.subarray(9, 12)), [12, 13, 14]); // row 3 of play = image 4
    assert.deepEqual(Array.from(l.test), Array.from(testLogits));
    assert.equal(teacher.key.length, 64);

    const bad = async (tensors: Parameters<typeof saveSafetensors>[1], message: RegExp) => {
      await saveSafetensors(file, tensors);
      await assert.rejects(
        logitsFileTeacher(file, data, 8, 4),
        (e) => e instanceof InputError && e.message.startsWith(file) && message.test(e.message),
      );
    };
    const testT = { dtype: "f32" as const, shape: [4, C], data: testLogits };
    await bad({ test: testT }, /no tensor "train"/);
    await bad(
      { train: { dtype: "f32", shape: [8, 2], data: new Float32Array(16) }, test: testT },
      /"train" is f32 \[8,2\], expected f32 \[8, 3\]/,
    );
    const withNaN = trainLogits.slice();
    withNaN[13] = NaN;
    await bad(
      { train: { dtype: "f32", shape: [8, C], data: withNaN }, test: testT },
      /"train" row 4 holds NaN/,
    );
    withNaN[13] = 0;
    withNaN[10] = Infinity; // image 3 is held out of play: not used, not checked
    await saveSafetensors(file, {
      train: { dtype: "f32", shape: [8, C], data: withNaN },
      test: testT,
    });
    await logitsFileTeacher(file, data, 8, 4);
  });
});
