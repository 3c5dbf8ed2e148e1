import assert from "node:assert/strict";
import { fixture } from "../../fixtures.ts";
import { loadSafetensors } from "../../../engine/safetensors.ts";
import { InputError } from "../../../engine/errors.ts";
import { inferClipConfig } from "../../../models/clip/config.ts";

for (const name of ["clip_rn", "clip_vit"]) {
  Deno.test({
    name: `inferClipConfig recovers the constructor arguments of ${name}`,
    fn: async () => {
      const cse = JSON.parse(await Deno.readTextFile(fixture(name, "case.json")));
      const { tensors } = await loadSafetensors(fixture(name, "model.safetensors"));
      const c = inferClipConfig(tensors);
      const want = cse.config;
      assert.deepEqual(
        {
          embed_dim: c.embedDim,
          image_resolution: c.imageResolution,
          vision_layers: c.visionLayers,
          vision_width: c.visionWidth,
          vision_patch_size: c.visionPatchSize,
          context_length: c.contextLength,
          vocab_size: c.vocabSize,
          transformer_width: c.transformerWidth,
          transformer_heads: c.transformerHeads,
          transformer_layers: c.transformerLayers,
        },
        want,
      );
      assert.equal(c.visionHeads, cse.derived.vision_heads);
    },
  });
}

const shapes = (entries: [string, number[]][]) =>
  new Map(entries.map(([n, shape]) => [n, { shape }]));

const VIT: [string, number[]][] = [
  ["visual.proj", [768, 512]],
  ["visual.conv1.weight", [768, 3, 32, 32]],
  ["visual.positional_embedding", [50, 768]],
  ...Array.from({ length: 12 }, (_, i): [string, number[]] => [
    `visual.transformer.resblocks.${i}.attn.in_proj_weight`,
    [2304, 768],
  ]),
  ["text_projection", [512, 512]],
  ["positional_embedding", [77, 512]],
  ["token_embedding.weight", [49408, 512]],
  ["ln_final.weight", [512]],
  ...Array.from({ length: 12 }, (_, i): [string, number[]] => [
    `transformer.resblocks.${i}.ln_1.weight`,
    [512],
  ]),
];

Deno.test("inferClipConfig gives ViT-B/32 from its shapes", () => {
  const c = inferClipConfig(shapes(VIT));
  assert.deepEqual(
    [c.embedDim, c.imageResolution, c.visionLayers, c.visionWidth, c.visionPatchSize],
    [512, 224, 12, 768, 32],
  );
  assert.deepEqual([c.visionHeads, c.transformerHeads, c.transformerLayers], [12, 8, 12]);
});

Deno.test("inferClipConfig names the tensors it needs and does not find", () => {
  const partial = shapes(VIT.filter(([n]) => n !== "text_projection" && n !== "ln_final.weight"));
  assert.throws(
    () => inferClipConfig(partial, "w.safetensors"),
    (e) =>
      e instanceof InputError && /^w\.safetensors: .*missing text_projection, ln_final\.weight/
        .test(e.message),
  );
  assert.throws(() => inferClipConfig(new Map()), /missing visual\.layer1\.0\.conv1\.weight/);
});

Deno.test("inferClipConfig refuses a non-square token grid and a wrong rank", () => {
  const grid = shapes(
    VIT.map(([n, s]) => [n, n === "visual.positional_embedding" ? [51, 768] : s]),
  );
  assert.throws(() => inferClipConfig(grid), /visual\.positional_embedding has 50 grid tokens/);
  const rank = shapes(VIT.map(([n, s]) => [n, n === "text_projection" ? [512] : s]));
  assert.throws(() => inferClipConfig(rank), /text_projection has shape \[512\], expected rank 2/);
});
