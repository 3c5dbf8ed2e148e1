import assert from "node:assert/strict";
import { join } from "node:path";
import { demoCommand } from "../../../cli/commands/demo.ts";
import { DEMO_SETTINGS, DEMO_SIZES, demoConfig, demoPreface } from "../../../al/demo.ts";
import { fashionMnistTest } from "../../debian_dataset.ts";
import { InputError } from "../../../engine/errors.ts";

Deno.test("demo: Fashion-MNIST, three arms over three seeds, cpu and paper sizes", () => {
  const c = demoConfig();
  assert.equal(c.dataset, "fashion-mnist");
  assert.equal(c.student, "resnet18");
  assert.equal(c.pretrained, undefined, "the demo student starts from scratch");
  assert.deepEqual([...c.strategies].sort(), ["pcoreset", "random"]);
  assert.deepEqual(c.baselines, ["random"], "no plain arm: no KD lift to show");
  assert.equal(c.shots, 1);
  assert.equal(c.budget, 30);
  assert.ok(c.rounds >= 2);
  assert.deepEqual(c.seeds, [1, 2, 3]);
  assert.equal(c.teacher, "holdout-classifier");
  assert.equal(c.trainSize, DEMO_SETTINGS.trainSize);
  assert.equal(c.out, "runs/demo");
  for (const [key, value] of Object.entries(DEMO_SIZES.cpu)) {
    assert.equal(c[key as keyof typeof c], value, key);
  }
  const paper = demoConfig({ profile: "paper" });
  assert.equal(paper.studentWidth, 64, "the paper's student is the full ResNet-18");
  assert.equal(paper.repeat, 200);
  const preface = demoPreface(c, "cpu");
  assert.match(preface, /held out of the pool/);
  assert.match(preface, /NOT CLIP: pass --clip DIR/);
  assert.match(preface, /random-no-teacher \(plain active learning\)/);

  const clip = demoConfig({ clip: "/weights/RN50", seeds: [7], out: "x" });
  assert.equal(clip.teacher, "clip-zeroshot");
  assert.equal(clip.clip, "/weights/RN50");
  assert.deepEqual(clip.seeds, [7]);
  assert.equal(clip.out, "x");
  assert.match(demoPreface(clip, "cpu"), /teacher: zero-shot CLIP from \/weights\/RN50/);
});

Deno.test("demo --seeds: a bad list is an InputError naming the flag", async () => {
  await assert.rejects(
    demoCommand().exitOverride().parseAsync(["--seeds", "1,1", "--quiet"], { from: "user" }),
    (e) => e instanceof InputError && e.message.startsWith("--seeds: "),
  );
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
