/** SGD with PyTorch semantics (momentum, dampening, Nesterov, L2 weight decay), one fused kernel. */
import { engine } from "../context.ts";
import { InputError } from "../errors.ts";
import { empty, keep, type Tensor } from "../tensor.ts";
import { grid1d } from "../ops/grid.ts";
import { packSgdSegments, SGD_SEGMENT_BYTES, sgdSpec } from "../../kernels/optim/sgd.ts";
import { checkHyper, Optimizer, type OptimizerState } from "./optimizer.ts";
import { CHUNK } from "./packed.ts";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

const STATE = ["momentum_buffer"] as const;

function checkSgd(momentum: number, dampening: number, weightDecay: number, nesterov: boolean) {
  checkHyper("SGD", "momentum", momentum, 0);
  checkHyper("SGD", "dampening", dampening, 0);
  checkHyper("SGD", "weightDecay", weightDecay, 0);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new InputError("SGD: Nesterov momentum requires a momentum and zero dampening");
  }
}

export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  #momentumBuffer: Tensor;
  #segments: Tensor;

  constructor(
    params: Iterable<Tensor>,
    { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: SGDOptions,
  ) {
    super(params, "SGD");
    checkSgd(momentum, dampening, weightDecay, nesterov);
    this.setLr(lr);
    [this.momentum, this.dampening, this.weightDecay, this.nesterov] = [
      momentum,
      dampening,
      weightDecay,
      nesterov,
    ];
    this.#momentumBuffer = this.pack.zerosLike();
    this.#segments = keep(empty([this.params.length * SGD_SEGMENT_BYTES / 4], "u32"));
  }

  step(): void {
    const active = this.pack.active();
    if (!active.some((a) => a)) return;
    const segs = this.params.map((_, k) => ({
      end: this.pack.offsets[k] + this.params[k].size,
      active: active[k],
      first: this.steps[k] === 0,
    }));
    for (let k = 0; k < active.length; k++) if (active[k]) this.steps[k]++;
    engine().stream.write(this.#segments.buffer, 0, packSgdSegments(segs));
    this.pack.gather(active);
    const { workgroups, groupsX } = grid1d(this.pack.total, CHUNK);
    engine().dispatch(sgdSpec, {
      buffers: {
        param: this.pack.flatParam.buffer,
        grad: this.pack.flatGrad.buffer,
        chunk_param: this.pack.chunkParam.buffer,
        momentum_buffer: this.#momentumBuffer.buffer,
        segments: this.#segments.buffer,
      },
      uniforms: {
        num_chunks: this.pack.chunks,
        groups_x: groupsX,
        nesterov: this.nesterov ? 1 : 0,
        _pad0: 0,
        lr: this.lr,
        momentum: this.momentum,
        one_minus_dampening: 1 - this.dampening,
        weight_decay: this.weightDecay,
      },
      overrides: { WG: CHUNK },
      workgroups,
      label: "sgd",
    });
    this.pack.scatter(active);
  }

  async stateDict(): Promise<OptimizerState> {
    return {
      kind: "SGD",
      hyper: {
        lr: this.lr,
        momentum: this.momentum,
        dampening: this.dampening,
        weightDecay: this.weightDecay,
        nesterov: this.nesterov ? 1 : 0,
      },
      steps: [...this.steps],
      tensors: this.hostTensors(STATE, [(await this.#momentumBuffer.read()) as Float32Array]),
    };
  }

  /** Restores state and hyper-parameters (as PyTorch's `load_state_dict` restores groups). */
  loadStateDict(state: OptimizerState): void {
    const [momentumBuffer] = this.checkState(state, STATE);
    const h = state.hyper;
    checkSgd(h.momentum, h.dampening, h.weightDecay, h.nesterov === 1);
    this.setLr(h.lr);
    [this.momentum, this.dampening, this.weightDecay, this.nesterov] = [
      h.momentum,
      h.dampening,
      h.weightDecay,
      h.nesterov === 1,
    ];
    this.steps = [...state.steps];
    this.pack.upload(this.#momentumBuffer, momentumBuffer);
  }

  override dispose(): void {
    super.dispose();
    this.#momentumBuffer.dispose();
    this.#segments.dispose();
  }
}
