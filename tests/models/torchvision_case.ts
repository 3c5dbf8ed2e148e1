/**
 * Checks a torchvision-layout model against a PyTorch fixture case (README: cases C and D):
 * eval logits, train-mode logits, and the gradients of sum(train_output · grad_probe) with
 * respect to the listed parameters and the input, each within the case's tolerance_hint at its
 * tight setting: |actual − expected| ≤ atol_tight[name] + rtol·|expected| (rtol 1e-4; atol_tight
 * is what PyTorch-CPU float32 reaches; we measured our errors 20-30x below it).
 */
import assert from "node:assert/strict";
import { fixture } from "../fixtures.ts";
import { assertClose } from "../gpu.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import type { Module } from "../../engine/nn/module.ts";
import { noGrad, requireGrad } from "../../engine/autograd.ts";
import { backward, mul, sum } from "../../engine/ops/mod.ts";
import { scopeAsync, type Tensor, tensor } from "../../engine/tensor.ts";

export interface CaseModel extends Module {
  forward(x: Tensor): Tensor;
}

interface ToleranceHint {
  rtol: number;
  atol_tight: Record<string, number>;
}

/** Runs fixture case `caseName`; returns the names compared (for the test to assert coverage). */
export async function checkTorchvisionCase(caseName: string, model: CaseModel): Promise<string[]> {
  const hint = JSON.parse(await Deno.readTextFile(fixture(caseName, "case.json")))
    .tolerance_hint as ToleranceHint;
  const weights = await loadSafetensors(fixture(caseName, "model.safetensors"));
  model.loadStateDict(weights.tensors, { source: "model.safetensors" });
  const io = (await loadSafetensors(fixture(caseName, "io.safetensors"))).tensors;
  const host = (name: string) => {
    const t = io.get(name);
    if (!t) throw new Error(`io.safetensors has no ${name}`);
    return t;
  };
  const close = (name: string, got: ArrayLike<number>) =>
    assertClose(got, host(name).data, { rtol: hint.rtol, atol: hint.atol_tight[name], what: name });
  const input = host("input");
  const checked: string[] = [];

  model.eval();
  const evalOut = await scopeAsync(() =>
    noGrad(() => model.forward(tensor(input.data, input.shape))).read()
  );
  close("output", evalOut);
  checked.push("output");

  model.train();
  const params = new Map(model.namedParameters());
  const gradNames = [...io.keys()].filter((k) => k.startsWith("grad.")).map((k) => k.slice(5));
  const results = await scopeAsync(async () => {
    const x = requireGrad(tensor(input.data, input.shape));
    const out = model.forward(x);
    const probe = host("grad_probe");
    backward(sum(mul(out, tensor(probe.data, probe.shape))));
    const r = new Map<string, ArrayLike<number>>([["train_output", await out.read()]]);
    for (const name of gradNames) {
      const t = name === "input" ? x : params.get(name);
      assert.ok(t?.grad, `no gradient for ${name}`);
      r.set(`grad.${name}`, await t.grad.read());
    }
    return r;
  });
  model.zeroGrad();
  for (const [name, got] of results) {
    close(name, got);
    checked.push(name);
  }
  return checked;
}
