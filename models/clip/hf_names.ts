/**
 * Hugging Face `transformers` CLIP checkpoints (`vision_model.*`, `text_model.*`, e.g.
 * `openai/clip-vit-base-patch32`) renamed to OpenAI CLIP state-dict names, for the ViT family.
 * The HF attention keeps q/k/v projections apart; OpenAI's `nn.MultiheadAttention` packs them
 * into `in_proj_weight` [3E, E] in q, k, v order. HF projections are `Linear` weights
 * [out, in]; OpenAI's `visual.proj` and `text_projection` are matrices [in, out].
 */
import { InputError } from "../../engine/errors.ts";
import type { HostTensor } from "../../engine/safetensors.ts";

/** True when the names are those of a Hugging Face CLIP checkpoint. */
export function isHfClip(names: Iterable<string>): boolean {
  for (const n of names) {
    if (n.startsWith("vision_model.") || n.startsWith("text_model.")) return true;
  }
  return false;
}

/** Whole-name renames outside the encoder layers. */
const RENAMES: Record<string, string> = {
  "logit_scale": "logit_scale",
  "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
  "text_model.embeddings.position_embedding.weight": "positional_embedding",
  "text_model.final_layer_norm.weight": "ln_final.weight",
  "text_model.final_layer_norm.bias": "ln_final.bias",
  "vision_model.embeddings.class_embedding": "visual.class_embedding",
  "vision_model.embeddings.patch_embedding.weight": "visual.conv1.weight",
  "vision_model.embeddings.position_embedding.weight": "visual.positional_embedding",
  // Sic: "layrnorm" is the HF module's name.
  "vision_model.pre_layrnorm.weight": "visual.ln_pre.weight",
  "vision_model.pre_layrnorm.bias": "visual.ln_pre.bias",
  "vision_model.post_layernorm.weight": "visual.ln_post.weight",
  "vision_model.post_layernorm.bias": "visual.ln_post.bias",
};

/** `Linear` weights that OpenAI stores transposed as plain matrices. */
const TRANSPOSED: Record<string, string> = {
  "visual_projection.weight": "visual.proj",
  "text_projection.weight": "text_projection",
};

/** Index buffers HF saves that OpenAI computes (`arange`): dropped. */
const DROPPED = new Set([
  "text_model.embeddings.position_ids",
  "vision_model.embeddings.position_ids",
]);

/** Encoder-layer renames, after `<tower>.encoder.layers.<i>.`. */
const LAYER_RENAMES: [string, string][] = [
  ["layer_norm1.", "ln_1."],
  ["layer_norm2.", "ln_2."],
  ["mlp.fc1.", "mlp.c_fc."],
  ["mlp.fc2.", "mlp.c_proj."],
  ["self_attn.out_proj.", "attn.out_proj."],
];

const LAYER = /^(vision_model|text_model)\.encoder\.layers\.(\d+)\.(.*)$/;
const QKV = /^self_attn\.([qkv])_proj\.(weight|bias)$/;

function transpose2d(t: HostTensor, name: string, source: string): HostTensor {
  if (t.shape.length !== 2 || t.dtype !== "f32") {
    throw new InputError(
      `${source}: ${name} has shape [${t.shape}] (${t.dtype}), expected f32 2-D`,
    );
  }
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  }
  return { dtype: "f32", shape: [cols, rows], data: out };
}

/** Stacks q, k, v along the first axis, as `in_proj_weight` / `in_proj_bias` hold them. */
function packQkv(
  parts: Map<string, [string, HostTensor]>,
  base: string,
  source: string,
): HostTensor {
  const found = ["q", "k", "v"].map((p) => parts.get(p));
  const missing = ["q", "k", "v"].filter((_, i) => !found[i]);
  if (missing.length) {
    throw new InputError(
      `${source}: missing ${missing.map((p) => `${base}self_attn.${p}_proj.*`).join(", ")}`,
    );
  }
  const qkv = found as [string, HostTensor][];
  const shape = qkv[0][1].shape;
  if (qkv.some(([, t]) => t.shape.join() !== shape.join() || t.dtype !== "f32")) {
    throw new InputError(
      `${source}: q/k/v projections differ in shape or dtype: ` +
        qkv.map(([n, t]) => `${n} ${t.dtype}[${t.shape}]`).join(", "),
    );
  }
  const n = qkv[0][1].data.length;
  const data = new Float32Array(3 * n);
  qkv.forEach(([, t], i) => data.set(t.data, i * n));
  return { dtype: "f32", shape: [3 * shape[0], ...shape.slice(1)], data };
}

/**
 * Renames a HF CLIP state dict to OpenAI names. Names it does not know pass through unchanged,
 * so the strict loader reports them as unexpected. `source` names the file in errors.
 */
export function hfToOpenAiNames(
  state: ReadonlyMap<string, HostTensor>,
  source = "state dict",
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const put = (name: string, t: HostTensor, from: string) => {
    if (out.has(name)) throw new InputError(`${source}: ${from} and another tensor map to ${name}`);
    out.set(name, t);
  };
  // q/k/v parts grouped by "<layer prefix>|weight" or "|bias".
  const qkv = new Map<
    string,
    { base: string; target: string; parts: Map<string, [string, HostTensor]> }
  >();
  for (const [name, t] of state) {
    if (DROPPED.has(name)) continue;
    if (Object.hasOwn(RENAMES, name)) {
      put(RENAMES[name], t, name);
      continue;
    }
    if (Object.hasOwn(TRANSPOSED, name)) {
      put(TRANSPOSED[name], transpose2d(t, name, source), name);
      continue;
    }
    const m = LAYER.exec(name);
    if (!m) {
      put(name, t, name);
      continue;
    }
    const [, tower, index, rest] = m;
    const base = `${tower}.encoder.layers.${index}.`;
    const target = `${tower === "vision_model" ? "visual." : ""}transformer.resblocks.${index}.`;
    const p = QKV.exec(rest);
    if (p) {
      const key = `${base}|${p[2]}`;
      const group = qkv.get(key) ??
        { base, target: `${target}attn.in_proj_${p[2]}`, parts: new Map() };
      group.parts.set(p[1], [name, t]);
      qkv.set(key, group);
      continue;
    }
    const rename = LAYER_RENAMES.find(([from]) => rest.startsWith(from));
    put(rename ? target + rename[1] + rest.slice(rename[0].length) : name, t, name);
  }
  for (const { base, target, parts } of qkv.values()) {
    put(target, packQkv(parts, base, source), base + "self_attn.*_proj");
  }
  return out;
}
