import assert from "node:assert/strict";
import { assertClose, gpuTest } from "../../gpu.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import type { HostTensor } from "../../../engine/safetensors.ts";
import { scope, tensor } from "../../../engine/tensor.ts";
import { CLIP } from "../../../models/clip/clip.ts";
import { CLIP_CASES, loadClipFixture } from "./clip_fixture.ts";

const f32 = (t: HostTensor) => t.data as Float32Array;

// Tolerances: case.json's per-output atol (20× the measured float32-vs-float64 error of the
// reference run) and its rtol 1e-4.
for (const name of CLIP_CASES) {
  gpuTest(`CLIP ${name}: image features, text features and logits match PyTorch`, async () => {
    const fx = await loadClipFixture(name);
    const model = CLIP.fromStateDict(fx.model, fx.modelPath);
    try {
      const image = fx.io.get("image")!;
      const [img, txt, logits] = scope(() => {
        const i = model.encodeImage(tensor(f32(image), image.shape));
        const t = model.encodeText(fx.io.get("text")!.data as Int32Array);
        return [i, t, model.logits(i, t)];
      });
      for (const [got, what] of [[img, "image_features"], [txt, "text_features"]] as const) {
        assert.deepEqual(got.shape, fx.io.get(what)!.shape, what);
        assertClose(await got.read(), f32(fx.io.get(what)!), {
          rtol: fx.rtol,
          atol: fx.atol[what],
          what,
        });
      }
      assertClose(await logits.read(), f32(fx.io.get("logits_per_image")!), {
        rtol: fx.rtol,
        atol: fx.atol.logits_per_image,
        what: "logits_per_image",
      });
      for (const t of [img, txt, logits]) t.dispose();
    } finally {
      model.dispose();
    }
  });
}

gpuTest(
  "CLIP text rows ending early give the reference features (tokens past EOT skipped)",
  async () => {
    const fx = await loadClipFixture("clip_rn");
    const model = CLIP.fromStateDict(fx.model);
    try {
      // Rows 1 and 2 end at tokens 4 and 29: only 30 positions are computed for them.
      const ids = (fx.io.get("text")!.data as Int32Array).subarray(77, 3 * 77);
      const got = model.encodeText(ids);
      const want = f32(fx.io.get("text_features")!).subarray(48, 3 * 48);
      assertClose(await got.read(), want, { rtol: fx.rtol, atol: fx.atol.text_features });
      got.dispose();
    } finally {
      model.dispose();
    }
  },
);

for (const name of CLIP_CASES) {
  gpuTest(`CLIP ${name} inference keeps device memory flat across repeated calls`, async () => {
    const fx = await loadClipFixture(name);
    const model = CLIP.fromStateDict(fx.model);
    const image = fx.io.get("image")!;
    const run = async () => {
      const out = scope(() => {
        const i = model.encodeImage(tensor(f32(image), image.shape));
        const t = model.encodeText(fx.io.get("text")!.data as Int32Array);
        return model.logits(i, t);
      });
      await out.read();
      out.dispose();
    };
    await run(); // the ResNet's folded BatchNorm weights are made once, here
    const before = engine().pool.liveBytes;
    for (let i = 0; i < 3; i++) await run();
    assert.equal(engine().pool.liveBytes, before);
    model.dispose();
  });
}

gpuTest("reloading a ModifiedResNet CLIP refolds its BatchNorms", async () => {
  const fx = await loadClipFixture("clip_rn");
  const image = fx.io.get("image")!;
  const features = async (model: CLIP) => {
    const f = scope(() => model.encodeImage(tensor(f32(image), image.shape)));
    const out = await f.read();
    f.dispose();
    return out;
  };
  const changed = new Map(fx.model);
  const v = changed.get("visual.layer3.0.bn2.running_var")!;
  changed.set("visual.layer3.0.bn2.running_var", { ...v, data: f32(v).map((x) => 2 * x) });
  const model = CLIP.fromStateDict(fx.model);
  const fresh = CLIP.fromStateDict(changed);
  try {
    const original = await features(model);
    model.loadStateDict(changed);
    const reloaded = await features(model);
    assert.notDeepEqual(Array.from(reloaded), Array.from(original));
    assert.deepEqual(Array.from(reloaded), Array.from(await features(fresh)));
  } finally {
    model.dispose();
    fresh.dispose();
  }
});

gpuTest("CLIP loading names missing, mis-shaped and unexpected tensors", async () => {
  const fx = await loadClipFixture("clip_rn");
  const broken = new Map(fx.model);
  broken.delete("visual.layer2.1.bn3.running_var");
  broken.delete("transformer.resblocks.1.attn.out_proj.bias");
  const proj = broken.get("visual.attnpool.c_proj.weight")!;
  broken.set("visual.attnpool.c_proj.weight", { ...proj, shape: [proj.shape[1], proj.shape[0]] });
  broken.set("visual.extra", proj);
  assert.throws(
    () => CLIP.fromStateDict(broken, "rn.safetensors"),
    (e) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /^rn\.safetensors: /);
      for (
        const n of [
          "visual.layer2.1.bn3.running_var",
          "transformer.resblocks.1.attn.out_proj.bias",
          "visual.attnpool.c_proj.weight: expected f32[48, 512], got f32[512, 48]",
          "visual.extra",
        ]
      ) assert.ok(e.message.includes(n), `message names ${n}: ${e.message}`);
      return true;
    },
  );
  const noProjection = new Map(fx.model);
  noProjection.delete("text_projection");
  assert.throws(() => CLIP.fromStateDict(noProjection), /missing text_projection/);
});

gpuTest("CLIP towers refuse inputs of the wrong size or out-of-vocabulary ids", async () => {
  const fx = await loadClipFixture("clip_vit");
  const model = CLIP.fromStateDict(fx.model);
  try {
    scope(() => {
      assert.throws(
        () => model.encodeImage(tensor(new Float32Array(3 * 32 * 32), [1, 3, 32, 32])),
        (e) => e instanceof InputError && /\[B, 3, 64, 64\]/.test(e.message),
      );
    });
    assert.throws(() => model.encodeText(new Int32Array(76)), /rows of 77 token ids/);
    const ids = new Int32Array(77);
    ids[3] = 800;
    assert.throws(() => model.encodeText(ids), /token id 800 \(row 0\) outside the vocabulary/);
  } finally {
    model.dispose();
  }
});
