/** AdamW with PyTorch semantics (decoupled weight decay, bias corrections), one fused kernel. */
import { engine } from "../context.ts";
import { empty, keep, type Tensor } from "../tensor.ts";
import { grid1d } from "../ops/grid.ts";
import { ADAMW_SEGMENT_BYTES, adamwSpec, packAdamwSegments } from "../../kernels/optim/adamw.ts";
import { checkHyper, Optimizer, type OptimizerState } from "./optimizer.ts";
import { CHUNK } from "./packed.ts";

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

const STATE = ["exp_avg", "exp_avg_sq"] as const;

function checkAdamW(beta1: number, beta2: number, eps: number, weightDecay: number): void {
  checkHyper("AdamW", "beta1", beta1, 0, 1);
  checkHyper("AdamW", "beta2", beta2, 0, 1);
  checkHyper("AdamW", "eps", eps, 0);
  checkHyper("AdamW", "weightDecay", weightDecay, 0);
}

export class AdamW extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  #expAvg: Tensor;
  #expAvgSq: Tensor;
  #segments: Tensor;

  constructor(
    params: Iterable<Tensor>,
    { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01 }: AdamWOptions = {},
  ) {
    super(params, "AdamW");
    checkAdamW(betas[0], betas[1], eps, weightDecay);
    [this.beta1, this.beta2, this.eps, this.weightDecay] = [...betas, eps, weightDecay];
    this.setLr(lr);
    this.#expAvg = this.pack.zerosLike();
    this.#expAvgSq = this.pack.zerosLike();
    this.#segments = keep(empty([this.params.length * ADAMW_SEGMENT_BYTES / 4], "u32"));
  }

  step(): void {
    const active = this.pack.active();
    if (!active.some((a) => a)) return;
    const segs = this.params.map((_, k) => {
      if (active[k]) this.steps[k]++;
      const t = Math.max(1, this.steps[k]);
      return {
        end: this.pack.offsets[k] + this.params[k].size,
        active: active[k],
        stepSize: this.lr / (1 - this.beta1 ** t),
        bc2Sqrt: Math.sqrt(1 - this.beta2 ** t),
        decay: 1 - this.lr * this.weightDecay,
      };
    });
    engine().stream.write(this.#segments.buffer, 0, packAdamwSegments(segs));
    this.pack.gather(active);
    const { workgroups, groupsX } = grid1d(this.pack.total, CHUNK);
    engine().dispatch(adamwSpec, {
      buffers: {
        param: this.pack.flatParam.buffer,
        grad: this.pack.flatGrad.buffer,
        chunk_param: this.pack.chunkParam.buffer,
        exp_avg: this.#expAvg.buffer,
        exp_avg_sq: this.#expAvgSq.buffer,
        segments: this.#segments.buffer,
      },
      uniforms: {
        num_chunks: this.pack.chunks,
        groups_x: groupsX,
        _pad0: 0,
        _pad1: 0,
        beta1: this.beta1,
        one_minus_beta1: 1 - this.beta1,
        beta2: this.beta2,
        one_minus_beta2: 1 - this.beta2,
        eps: this.eps,
        _pad2: 0,
        _pad3: 0,
        _pad4: 0,
      },
      overrides: { WG: CHUNK },
      workgroups,
      label: "adamw",
    });
    this.pack.scatter(active);
  }

  async stateDict(): Promise<OptimizerState> {
    const flats = [
      (await this.#expAvg.read()) as Float32Array,
      (await this.#expAvgSq.read()) as Float32Array,
    ];
    return {
      kind: "AdamW",
      hyper: {
        lr: this.lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
      },
      steps: [...this.steps],
      tensors: this.hostTensors(STATE, flats),
    };
  }

  /** Restores state and hyper-parameters (as PyTorch's `load_state_dict` restores groups). */
  loadStateDict(state: OptimizerState): void {
    const [expAvg, expAvgSq] = this.checkState(state, STATE);
    const h = state.hyper;
    checkAdamW(h.beta1, h.beta2, h.eps, h.weightDecay);
    this.setLr(h.lr);
    [this.beta1, this.beta2, this.eps, this.weightDecay] = [h.beta1, h.beta2, h.eps, h.weightDecay];
    this.steps = [...state.steps];
    this.pack.upload(this.#expAvg, expAvg);
    this.pack.upload(this.#expAvgSq, expAvgSq);
  }

  override dispose(): void {
    super.dispose();
    this.#expAvg.dispose();
    this.#expAvgSq.dispose();
    this.#segments.dispose();
  }
}
