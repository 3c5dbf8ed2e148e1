import assert from "node:assert/strict";
import { fixture } from "../../fixtures.ts";
import { type HostTensor, loadSafetensors } from "../../../engine/safetensors.ts";
import { InputError } from "../../../engine/errors.ts";
import { hfToOpenAiNames, isHfClip } from "../../../models/clip/hf_names.ts";
import { openAiToHf } from "./hf_fixture.ts";
import { gpuTest } from "../../gpu.ts";
import { scope, tensor } from "../../../engine/tensor.ts";
import { CLIP } from "../../../models/clip/clip.ts";

Deno.test({
  name: "HF names of the ViT fixture map back to the OpenAI state dict bit for bit",
  fn: async () => {
    const { tensors } = await loadSafetensors(fixture("clip_vit", "model.safetensors"));
    const hf = openAiToHf(tensors);
    assert.ok(isHfClip(hf.keys()) && !isHfClip(tensors.keys()));
    assert.ok(hf.has("vision_model.encoder.layers.1.self_attn.k_proj.weight"));
    const back = hfToOpenAiNames(hf);
    assert.deepEqual([...back.keys()].sort(), [...tensors.keys()].sort());
    for (const [name, t] of tensors) {
      const b = back.get(name)!;
      assert.deepEqual(b.shape, t.shape, name);
      assert.deepEqual(Array.from(b.data), Array.from(t.data), name);
    }
  },
});

const f32 = (shape: number[], fill = 0): HostTensor => ({
  dtype: "f32",
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
});

Deno.test("a missing or mis-shaped q/k/v projection is named; unknown names pass through", () => {
  const base = "vision_model.encoder.layers.0.self_attn.";
  const partial = new Map([[`${base}q_proj.weight`, f32([4, 4])], [
    `${base}v_proj.weight`,
    f32([
      4,
      4,
    ]),
  ]]);
  assert.throws(
    () => hfToOpenAiNames(partial, "m.safetensors"),
    (e) =>
      e instanceof InputError &&
      e.message === `m.safetensors: missing ${base}k_proj.*`,
  );
  partial.set(`${base}k_proj.weight`, f32([4, 3]));
  assert.throws(() => hfToOpenAiNames(partial), /k_proj\.weight f32\[4,3\]/);
  const odd = hfToOpenAiNames(new Map([["vision_model.extra.weight", f32([2])]]));
  assert.deepEqual([...odd.keys()], ["vision_model.extra.weight"]);
});

Deno.test("projections are transposed and position ids dropped", () => {
  const proj: HostTensor = { dtype: "f32", shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
  const out = hfToOpenAiNames(
    new Map([
      ["visual_projection.weight", proj],
      ["text_model.embeddings.position_ids", {
        dtype: "i32",
        shape: [1, 3],
        data: new Int32Array(3),
      }],
    ]),
  );
  assert.deepEqual([...out.keys()], ["visual.proj"]);
  assert.deepEqual(out.get("visual.proj")!.shape, [3, 2]);
  assert.deepEqual(Array.from(out.get("visual.proj")!.data), [1, 4, 2, 5, 3, 6]);
});

gpuTest("a HF-named ViT CLIP gives the same features as its OpenAI-named original", async () => {
  const { tensors } = await loadSafetensors(fixture("clip_vit", "model.safetensors"));
  const io = (await loadSafetensors(fixture("clip_vit", "io.safetensors"))).tensors;
  const image = io.get("image")!, text = io.get("text")!.data as Int32Array;
  const outputs = async (model: CLIP) => {
    const [i, t] = scope(() => [
      model.encodeImage(tensor(image.data, image.shape)),
      model.encodeText(text),
    ]);
    const out = [Array.from(await i.read()), Array.from(await t.read())];
    i.dispose();
    t.dispose();
    model.dispose();
    return out;
  };
  const openai = await outputs(CLIP.fromStateDict(tensors));
  const hf = await outputs(CLIP.fromStateDict(openAiToHf(tensors), "hf.safetensors"));
  // Same weights, same kernels: bit-identical.
  assert.deepEqual(hf, openai);
});
