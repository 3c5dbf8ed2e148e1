/** What AdamW and SGD share: packed parameters, `zeroGrad`, `setLr`, checkpoint state. */
import { InputError } from "../errors.ts";
import type { Tensor } from "../tensor.ts";
import type { HostTensor } from "../safetensors.ts";
import { PackedParams } from "./packed.ts";

/**
 * An optimiser's state in host memory, for checkpoints (exact resume). `tensors` are named
 * `<param index>.<state name>` (PyTorch's names: `exp_avg`, `exp_avg_sq`, `momentum_buffer`),
 * shaped like the parameter; `steps` is each parameter's step count. Saving it as safetensors:
 * `tensors` as the tensors, `{kind, hyper, steps}` as JSON metadata.
 */
export interface OptimizerState {
  kind: "AdamW" | "SGD";
  hyper: Record<string, number>;
  steps: number[];
  tensors: Map<string, HostTensor>;
}

export function checkHyper(what: string, name: string, v: number, lo: number, hi = Infinity) {
  if (!(Number.isFinite(v) && v >= lo && v < hi)) {
    throw new InputError(`${what}: ${name} = ${v} must be in [${lo}, ${hi})`);
  }
}

export abstract class Optimizer {
  protected readonly pack: PackedParams;
  /** Per parameter: how many updates it has received (parameters without grad are skipped). */
  protected steps: number[];
  #lr = 0;

  constructor(params: Iterable<Tensor>, protected readonly kind: OptimizerState["kind"]) {
    this.pack = new PackedParams(params, kind);
    this.steps = this.pack.params.map(() => 0);
  }

  get params(): readonly Tensor[] {
    return this.pack.params;
  }

  get lr(): number {
    return this.#lr;
  }

  /** Sets the learning rate used by the next `step()` (schedules call this every step). */
  setLr(lr: number): void {
    checkHyper(this.kind, "lr", lr, 0);
    this.#lr = lr;
  }

  /** Updates every parameter that has a gradient, in one fused dispatch. */
  abstract step(): void;

  /** Drops the gradients of all parameters (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.pack.params) {
      p.grad?.dispose();
      p.grad = undefined;
    }
  }

  abstract stateDict(): Promise<OptimizerState>;
  abstract loadStateDict(state: OptimizerState): void;

  /** Checks a state's kind, parameter count and tensor shapes against this optimiser. */
  protected checkState(state: OptimizerState, names: readonly string[]): Float32Array[][] {
    const fail = (msg: string): never => {
      throw new InputError(`${this.kind} state: ${msg}`);
    };
    if (state.kind !== this.kind) fail(`is for ${state.kind}`);
    const n = this.pack.params.length;
    if (state.steps.length !== n) fail(`has ${state.steps.length} parameters, expected ${n}`);
    if (!state.steps.every((s) => Number.isInteger(s) && s >= 0)) fail("bad step counts");
    return names.map((name) =>
      this.pack.params.map((p, k) => {
        const t = state.tensors.get(`${k}.${name}`);
        if (!t) return fail(`lacks ${k}.${name}`);
        if (t.dtype !== "f32" || t.data.length !== p.size) {
          fail(`${k}.${name} is ${t.dtype}[${t.shape}], expected f32[${p.shape}]`);
        }
        return t.data as Float32Array;
      })
    );
  }

  protected hostTensors(
    names: readonly string[],
    flats: readonly Float32Array[],
  ): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    names.forEach((name, j) => {
      this.pack.split(flats[j]).forEach((data, k) => {
        out.set(`${k}.${name}`, { dtype: "f32", shape: [...this.pack.params[k].shape], data });
      });
    });
    return out;
  }

  /** Frees the optimiser's state and packing buffers (not the parameters). */
  dispose(): void {
    this.pack.dispose();
  }
}
