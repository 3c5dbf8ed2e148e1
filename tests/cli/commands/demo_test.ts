import assert from "node:assert/strict";
import { join } from "node:path";
import { demoCommand } from "../../../cli/commands/demo.ts";
import { DEMO_SETTINGS, demoConfig, demoPreface } from "../../../al/demo.ts";
import { fashionMnistTest } from "../../debian_dataset.ts";
import { InputError } from "../../../engine/errors.ts";

Deno.test("demo: Fashion-MNIST, ResNet-18 at 32×32, PCoreSet vs random, ≥ 3 rounds", () => {
  const c = demoConfig();
  assert.equal(c.dataset, "fashion-mnist");
  assert.equal(c.student, "resnet18");
  assert.equal(c.pretrained, undefined, "the demo student starts from scratch");
  assert.equal(c.imageSize, 32);
  assert.deepEqual([...c.strategies].sort(), ["pcoreset", "random"]);
  assert.equal(c.shots, 1);
  assert.equal(c.budget, 10);
  assert.ok(c.rounds >= 3);
  assert.deepEqual(c.seeds, [1]);
  assert.equal(c.teacher, "holdout-classifier");
  assert.equal(c.trainSize, DEMO_SETTINGS.trainSize);
  assert.equal(c.out, "runs/demo");
  const preface = demoPreface(c);
  assert.match(preface, /held out of the pool/);
  assert.match(preface, /NOT CLIP: pass --clip DIR/);

  const clip = demoConfig({ clip: "/weights/RN50", seed: 7, out: "x" });
  assert.equal(clip.teacher, "clip-zeroshot");
  assert.equal(clip.clip, "/weights/RN50");
  assert.deepEqual(clip.seeds, [7]);
  assert.equal(clip.out, "x");
  assert.match(demoPreface(clip), /teacher: zero-shot CLIP from \/weights\/RN50/);
});

fashionMnistTest({
  name: "demo --clip: a missing folder is an InputError naming --clip",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const error = console.error;
    console.error = () => {};
    try {
      await assert.rejects(
        demoCommand().exitOverride().parseAsync(
          ["--clip", join(dir, "none"), "--out", join(dir, "out"), "--quiet"],
          { from: "user" },
        ),
        (e) =>
          e instanceof InputError &&
          e.message === `--clip ${join(dir, "none")}: no such file or folder`,
      );
    } finally {
      console.error = error;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
