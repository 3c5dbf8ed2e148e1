/**
 * OpenAI CLIP: an image tower (ModifiedResNet or ViT), the causal text transformer, and the
 * temperature `logit_scale`. Built from a state dict alone (`fromStateDict` infers the config
 * from shapes, as the reference `build_model`); inference runs without autograd, inside scopes.
 */
import { type LoadReport, Module, type StateSource } from "../../engine/nn/module.ts";
import { LayerNorm } from "../../engine/nn/layer_norm.ts";
import { Embedding } from "../../engine/nn/embedding.ts";
import { normalInit } from "../../engine/nn/init.ts";
import { InputError } from "../../engine/errors.ts";
import type { Rng } from "../../engine/rng.ts";
import { type HostTensor, loadSafetensors } from "../../engine/safetensors.ts";
import { scope, type Tensor, tensor } from "../../engine/tensor.ts";
import { noGrad } from "../../engine/autograd.ts";
import { add, exp, mul } from "../../engine/ops/elementwise.ts";
import { reshape } from "../../engine/ops/shape.ts";
import { indexSelect } from "../../engine/ops/gather.ts";
import { slice } from "../../engine/ops/narrow.ts";
import { matmul } from "../../engine/ops/matmul.ts";
import { l2Normalize } from "../../engine/ops/norm.ts";
import { type ClipConfig, inferClipConfig, isVisionTransformer } from "./config.ts";
import { hfToOpenAiNames, isHfClip } from "./hf_names.ts";
import { ModifiedResNet } from "./modified_resnet.ts";
import { VisionTransformer } from "./vision_transformer.ts";
import { Transformer } from "./transformer.ts";

/** Entries of the original OpenAI JIT checkpoints that are not tensors of the model. */
const NON_WEIGHTS = ["input_resolution", "context_length", "vocab_size"];

export class CLIP extends Module {
  readonly visual: ModifiedResNet | VisionTransformer;
  readonly transformer: Transformer;
  readonly token_embedding: Embedding;
  readonly positional_embedding: Tensor;
  readonly ln_final: LayerNorm;
  readonly text_projection: Tensor;
  readonly logit_scale: Tensor;

  /** `rng` draws random weights (benchmarks); without it they are zeros, to be loaded. */
  constructor(readonly config: ClipConfig, rng?: Rng) {
    super();
    const c = config;
    this.visual = this.child(
      "visual",
      isVisionTransformer(c)
        ? new VisionTransformer({
          inputResolution: c.imageResolution,
          patchSize: c.visionPatchSize!,
          width: c.visionWidth,
          layers: c.visionLayers as number,
          heads: c.visionHeads,
          outputDim: c.embedDim,
          rng,
        })
        : new ModifiedResNet({
          layers: c.visionLayers as [number, number, number, number],
          outputDim: c.embedDim,
          heads: c.visionHeads,
          inputResolution: c.imageResolution,
          width: c.visionWidth,
          rng,
        }),
    );
    const w = c.transformerWidth;
    this.transformer = this.child(
      "transformer",
      new Transformer(w, c.transformerLayers, c.transformerHeads, rng),
    );
    this.token_embedding = this.child("token_embedding", new Embedding(c.vocabSize, w, { rng }));
    this.positional_embedding = this.param(
      "positional_embedding",
      tensor(normalInit(c.contextLength * w, 0.01, rng), [c.contextLength, w]),
    );
    this.ln_final = this.child("ln_final", new LayerNorm(w));
    this.text_projection = this.param(
      "text_projection",
      tensor(normalInit(w * c.embedDim, w ** -0.5, rng), [w, c.embedDim]),
    );
    this.logit_scale = this.param("logit_scale", tensor([Math.log(1 / 0.07)], []));
  }

  /**
   * Builds CLIP from an OpenAI-named state dict (or a Hugging Face `transformers` ViT CLIP one)
   * and loads it strictly: missing, unexpected or mis-shaped tensors are one InputError naming
   * them. The model is in eval mode with frozen parameters.
   */
  static fromStateDict(state: ReadonlyMap<string, HostTensor>, source = "state dict"): CLIP {
    const named = isHfClip(state.keys()) ? hfToOpenAiNames(state, source) : new Map(state);
    for (const k of NON_WEIGHTS) named.delete(k);
    const model = new CLIP(inferClipConfig(named, source));
    try {
      model.loadStateDict(named, { strict: true, source });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model.eval().setRequiresGrad(false);
  }

  /** Loads as `Module.loadStateDict`; conv weights folded with BatchNorm are then recomputed. */
  override loadStateDict(
    map: Map<string, StateSource>,
    options?: { strict?: boolean; source?: string },
  ): LoadReport {
    const report = super.loadStateDict(map, options);
    if (this.visual instanceof ModifiedResNet) this.visual.unfold();
    return report;
  }

  override dispose(): void {
    if (this.visual instanceof ModifiedResNet) this.visual.unfold();
    super.dispose();
  }

  /** Reads a safetensors checkpoint (see `fromStateDict`). */
  static async load(path: string): Promise<CLIP> {
    const { tensors } = await loadSafetensors(path);
    return CLIP.fromStateDict(tensors, path);
  }

  /** images [B, 3, R, R] (CLIP-normalised) → unnormalised features [B, embedDim]. */
  encodeImage(images: Tensor): Tensor {
    const r = this.config.imageResolution;
    const [b, c, h, w] = images.shape;
    if (images.rank !== 4 || c !== 3 || h !== r || w !== r || images.dtype !== "f32") {
      throw new InputError(
        `CLIP image tower takes f32 images [B, 3, ${r}, ${r}], got ${images.dtype}[${images.shape}]`,
      );
    }
    if (b === 0) throw new InputError("CLIP image tower: no images");
    return noGrad(() => scope(() => this.visual.forward(images)));
  }

  /**
   * Token ids, `contextLength` per row (as `ClipTokenizer.tokenize` returns them), → unnormalised
   * features [T, embedDim], read at each row's end-of-text token (its largest id, as the
   * reference's `text.argmax(-1)`). Tokens after the last end-of-text of the batch cannot
   * reach it through the causal mask, so they are not computed.
   */
  encodeText(ids: Int32Array): Tensor {
    const { contextLength: ctx, vocabSize } = this.config;
    const rows = ids.length / ctx;
    if (!Number.isInteger(rows) || rows === 0) {
      throw new InputError(`CLIP text tower takes rows of ${ctx} token ids, got ${ids.length} ids`);
    }
    const eot = new Int32Array(rows);
    for (let t = 0; t < rows; t++) {
      for (let i = 0; i < ctx; i++) {
        const id = ids[t * ctx + i];
        if (id < 0 || id >= vocabSize) {
          throw new InputError(`token id ${id} (row ${t}) outside the vocabulary of ${vocabSize}`);
        }
        if (id > ids[t * ctx + eot[t]]) eot[t] = i;
      }
    }
    const used = eot.reduce((a, b) => Math.max(a, b), 0) + 1;
    const kept = new Int32Array(rows * used);
    for (let t = 0; t < rows; t++) {
      kept.set(ids.subarray(t * ctx, t * ctx + used), t * used);
      eot[t] += t * used; // flat row index into [rows * used, width]
    }
    return noGrad(() =>
      scope(() => {
        const width = this.config.transformerWidth;
        const tokens = this.token_embedding.forward(tensor(kept, [rows, used], "i32"));
        let x = add(tokens, slice(this.positional_embedding, 0, 0, used));
        x = this.transformer.forward(x, true);
        const last = indexSelect(reshape(x, [rows * used, width]), 0, tensor(eot, [rows], "i32"));
        return matmul(this.ln_final.forward(last), this.text_projection);
      })
    );
  }

  /** logits_per_image [B, T] = exp(logit_scale) · normalise(image) · normalise(text)ᵀ. */
  logits(imageFeatures: Tensor, textFeatures: Tensor): Tensor {
    return noGrad(() =>
      scope(() => {
        const cos = matmul(l2Normalize(imageFeatures, 1), l2Normalize(textFeatures, 1), {
          transB: true,
        });
        return mul(cos, reshape(exp(this.logit_scale), [1, 1]));
      })
    );
  }
}
