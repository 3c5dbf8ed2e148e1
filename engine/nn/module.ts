/**
 * `Module`: named parameters, buffers and child modules, registered in construction order, with
 * PyTorch's dotted names (`layer1.0.conv1.weight`) so that a PyTorch state dict loads by name.
 * A module owns its tensors: they are `keep`-ed out of any scope and freed by `dispose()`.
 */
import { engine } from "../context.ts";
import { InputError } from "../errors.ts";
import { keep, Tensor } from "../tensor.ts";
import type { HostTensor } from "../safetensors.ts";

/** The tensors a non-strict `loadStateDict` could not load, by name. */
export interface LoadReport {
  missing: string[];
  unexpected: string[];
  /** Present in both, but with another shape or dtype: "name: expected f32[3], got f32[4]". */
  mismatched: string[];
}

/** What `loadStateDict` accepts per name: host data (from safetensors) or a device tensor. */
export type StateSource = HostTensor | Tensor;

function describe(t: { dtype: string; shape: readonly number[] }): string {
  return `${t.dtype}[${t.shape.join(", ")}]`;
}

/** The engine dtype a host tensor is uploaded as (bool is stored as u8). */
function engineDtype(t: StateSource): string {
  return t.dtype === "bool" ? "u8" : t.dtype;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export class Module {
  /** Training mode (BatchNorm statistics, dropout); set recursively by `train()` / `eval()`. */
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  #checkName(name: string): void {
    if (!name || name.includes(".")) throw new Error(`module member name '${name}' is invalid`);
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`module member '${name}' is registered twice`);
    }
  }

  /** Registers a trainable parameter (f32, requires grad); the module now owns `t`. */
  param(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    if (t.dtype !== "f32") throw new Error(`parameter '${name}' must be f32, got ${t.dtype}`);
    t.requiresGrad = true;
    this.#params.set(name, keep(t));
    return t;
  }

  /** Registers a state tensor that is saved and loaded but not trained (running statistics). */
  buffer(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    this.#buffers.set(name, keep(t));
    return t;
  }

  /** Registers a child module; its members are named `<name>.<member>`. */
  child<M extends Module>(name: string, m: M): M {
    this.#checkName(name);
    this.#children.set(name, m);
    return m;
  }

  /** This module and every descendant, pre-order, with dotted prefixes ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.#children) {
      out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.#collect((m) => m.#params);
  }

  namedBuffers(): [string, Tensor][] {
    return this.#collect((m) => m.#buffers);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  #collect(members: (m: Module) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of members(m)) out.push([prefix ? `${prefix}.${name}` : name, t]);
    }
    return out;
  }

  /**
   * Parameters and buffers by name, in PyTorch's `state_dict` order (each module's own
   * parameters, then its buffers, then its children). The tensors are the module's own.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      const at = (name: string) => (prefix ? `${prefix}.${name}` : name);
      for (const [name, t] of m.#params) out.set(at(name), t);
      for (const [name, t] of m.#buffers) out.set(at(name), t);
    }
    return out;
  }

  /**
   * Copies tensors into the parameters and buffers of the same name. Strict (the default):
   * any missing, unexpected or mismatched tensor is one `InputError` listing them all, and
   * nothing is loaded. Non-strict: loads every tensor that matches and reports the others.
   * `source` names the checkpoint in error messages.
   */
  loadStateDict(
    map: Map<string, StateSource>,
    { strict = true, source = "state dict" }: { strict?: boolean; source?: string } = {},
  ): LoadReport {
    const own = this.stateDict();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    const matched: [Tensor, StateSource][] = [];
    for (const [name, t] of own) {
      const s = map.get(name);
      if (!s) report.missing.push(`${name} ${describe(t)}`);
      else if (!sameShape(s.shape, t.shape) || engineDtype(s) !== t.dtype) {
        report.mismatched.push(`${name}: expected ${describe(t)}, got ${describe(s)}`);
      } else matched.push([t, s]);
    }
    for (const [name, s] of map) {
      if (!own.has(name)) report.unexpected.push(`${name} ${describe(s)}`);
    }
    const problems = Object.entries(report).filter(([, list]) => list.length > 0);
    if (strict && problems.length > 0) {
      const parts = problems.map(([kind, list]) => `${kind} (${list.length}): ${list.join("; ")}`);
      throw new InputError(`${source}: ${parts.join(" | ")}`);
    }
    for (const [t, s] of matched) copyInto(t, s);
    return report;
  }

  /** Sets the training flag of this module and all descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Marks every parameter as trainable or frozen (frozen ones record no graph). */
  setRequiresGrad(flag: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Drops every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = undefined;
    }
  }

  /** Frees every parameter (and its gradient) and buffer of this module and its descendants. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}

/** Uploads host data or copies a device tensor into `t` (same shape and dtype, checked before). */
function copyInto(t: Tensor, s: StateSource): void {
  if (s instanceof Tensor) {
    if (s.buffer !== t.buffer) engine().stream.copy(s.buffer, 0, t.buffer, 0, t.byteLength);
    return;
  }
  const bytes = new Uint8Array(t.byteLength);
  bytes.set(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength));
  engine().stream.write(t.buffer, 0, bytes);
}
