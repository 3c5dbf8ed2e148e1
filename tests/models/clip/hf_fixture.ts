/**
 * Test helper: renames an OpenAI ViT CLIP state dict to Hugging Face `transformers` names
 * (written independently of `models/clip/hf_names.ts`, so the two check each other).
 */
import type { HostTensor } from "../../../engine/safetensors.ts";

function transpose(t: HostTensor): HostTensor {
  const [r, c] = t.shape;
  const data = new Float32Array(r * c);
  for (let i = 0; i < r * c; i++) data[(i % c) * r + Math.floor(i / c)] = t.data[i];
  return { dtype: "f32", shape: [c, r], data };
}

/** Part `part` of three equal parts along the first axis (q, k, v of `in_proj_*`). */
function rows(t: HostTensor, part: number): HostTensor {
  const n = t.data.length / 3;
  return {
    dtype: "f32",
    shape: [t.shape[0] / 3, ...t.shape.slice(1)],
    data: (t.data as Float32Array).slice(part * n, (part + 1) * n),
  };
}

const BLOCK: Record<string, string> = {
  "ln_1": "layer_norm1",
  "ln_2": "layer_norm2",
  "mlp.c_fc": "mlp.fc1",
  "mlp.c_proj": "mlp.fc2",
  "attn.out_proj": "self_attn.out_proj",
};

const TOP: Record<string, string> = {
  "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
  "positional_embedding": "text_model.embeddings.position_embedding.weight",
  "ln_final.weight": "text_model.final_layer_norm.weight",
  "ln_final.bias": "text_model.final_layer_norm.bias",
  "visual.class_embedding": "vision_model.embeddings.class_embedding",
  "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
  "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
  "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
  "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
  "visual.ln_post.weight": "vision_model.post_layernorm.weight",
  "visual.ln_post.bias": "vision_model.post_layernorm.bias",
  "logit_scale": "logit_scale",
};

export function openAiToHf(state: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of state) {
    if (name === "visual.proj") out.set("visual_projection.weight", transpose(t));
    else if (name === "text_projection") out.set("text_projection.weight", transpose(t));
    else if (TOP[name]) out.set(TOP[name], t);
    else {
      const m = /^(visual\.)?transformer\.resblocks\.(\d+)\.(.+)[._](weight|bias)$/.exec(name);
      if (!m) throw new Error(`openAiToHf: unexpected ${name}`);
      const layer = `${m[1] ? "vision_model" : "text_model"}.encoder.layers.${m[2]}.`;
      if (m[3] === "attn.in_proj") {
        ["q", "k", "v"].forEach((p, i) =>
          out.set(`${layer}self_attn.${p}_proj.${m[4]}`, rows(t, i))
        );
      } else out.set(`${layer}${BLOCK[m[3]]}.${m[4]}`, t);
    }
  }
  // HF checkpoints carry these index buffers.
  const ids = (n: number): HostTensor => ({
    dtype: "i32",
    shape: [1, n],
    data: Int32Array.from({ length: n }, (_, i) => i),
  });
  out.set("text_model.embeddings.position_ids", ids(state.get("positional_embedding")!.shape[0]));
  out.set(
    "vision_model.embeddings.position_ids",
    ids(state.get("visual.positional_embedding")!.shape[0]),
  );
  return out;
}
