/**
 * resnet18 (width 4, odd 29×29 input) and mobilenet_v2 (width_mult 0.5, odd 37×37 input)
 * against the small fixtures tests/models/make_fixtures.py writes with PyTorch: eval and train
 * logits, gradients, and the BatchNorm running statistics after the train pass. The weights are
 * the script's formula (`entryValues`), so the files hold no weights. Tolerances are the file's:
 * 20x the float32-vs-float64 difference of PyTorch's own computation.
 */
import assert from "node:assert/strict";
import { assertClose, gpuTest } from "../gpu.ts";
import { loadSafetensors } from "../../engine/safetensors.ts";
import type { HostTensor } from "../../engine/safetensors.ts";
import { noGrad, requireGrad } from "../../engine/autograd.ts";
import { backward, mul, sum } from "../../engine/ops/mod.ts";
import { scopeAsync, tensor } from "../../engine/tensor.ts";
import { resnet18 } from "../../models/resnet.ts";
import { mobilenetV2 } from "../../models/mobilenet_v2.ts";
import type { ImageClassifier } from "../../models/registry.ts";

/** make_fixtures.py's `hashed`: n values in [-1, 1) from a 32-bit hash of (k, i). */
function hashed(k: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let h = (i + Math.imul(k, 0x9E3779B1)) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = Math.imul(h, 0x85EBCA6B) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xC2B2AE35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    out[i] = (h / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** make_fixtures.py's `entry_values`, as host tensors of the state dict. */
function entryValues(names: string[], shapes: Map<string, readonly number[]>) {
  const out = new Map<string, HostTensor>();
  names.forEach((name, k) => {
    const shape = [...shapes.get(name)!];
    const n = shape.reduce((a, b) => a * b, 1);
    const v = hashed(k, n);
    const prefix = name.slice(0, name.lastIndexOf("."));
    const isBn = names.includes(`${prefix}.running_mean`);
    if (name.endsWith("num_batches_tracked")) {
      out.set(name, { dtype: "i32", shape, data: new Int32Array(n).fill(3) });
      return;
    }
    const f = name.endsWith("running_mean")
      ? (x: number) => 0.1 * x
      : name.endsWith("running_var")
      ? (x: number) => 1 + 0.5 * x
      : isBn && name.endsWith("weight")
      ? (x: number) => 0.75 + 0.25 * x
      : isBn && name.endsWith("bias")
      ? (x: number) => 0.1 * x
      : shape.length >= 2
      ? (x: number) => x * Math.sqrt(3 / shape.slice(1).reduce((a, b) => a * b, 1))
      : (x: number) => 0.1 * x;
    out.set(name, { dtype: "f32", shape, data: Float32Array.from(v, f) });
  });
  return out;
}

async function checkOwnFixture(file: string, model: ImageClassifier): Promise<number> {
  const { tensors: io, metadata } = await loadSafetensors(
    new URL(`./fixtures/${file}`, import.meta.url).pathname,
  );
  const names = JSON.parse(metadata.names) as string[];
  const atol = JSON.parse(metadata.atol) as Record<string, number>;
  const rtol = JSON.parse(metadata.rtol) as number;
  const state = model.stateDict();
  assert.deepEqual([...state.keys()], names, "state dict names in PyTorch's order");
  const shapes = new Map([...state].map(([n, t]) => [n, t.shape] as const));
  model.loadStateDict(entryValues(names, shapes));
  const host = (name: string) => io.get(name)!;
  const results = new Map<string, ArrayLike<number>>();
  const x = host("input");
  model.eval();
  results.set(
    "output",
    await scopeAsync(() => noGrad(() => model.forward(tensor(x.data, x.shape))).read()),
  );
  model.train();
  const params = new Map(model.namedParameters());
  await scopeAsync(async () => {
    const xg = requireGrad(tensor(x.data, x.shape));
    const out = model.forward(xg);
    const probe = host("grad_probe");
    backward(sum(mul(out, tensor(probe.data, probe.shape))));
    results.set("train_output", await out.read());
    for (const key of io.keys()) {
      if (key.startsWith("grad.")) {
        const p = key.slice(5);
        results.set(key, await (p === "input" ? xg : params.get(p)!).grad!.read());
      } else if (key.startsWith("after.")) {
        results.set(key, await state.get(key.slice(6))!.read());
      }
    }
  });
  model.zeroGrad();
  for (const [name, got] of results) {
    assertClose(got, host(name).data, { rtol, atol: atol[name], what: `${file} ${name}` });
  }
  return results.size;
}

gpuTest("resnet18 width 4 on 29x29 matches the project's PyTorch fixture", async () => {
  const model = resnet18({ numClasses: 3, width: 4 });
  try {
    assert.equal(await checkOwnFixture("resnet18_w4.safetensors", model), 11);
  } finally {
    model.dispose();
  }
});

gpuTest("mobilenet_v2 width_mult 0.5 on 37x37 matches the project's PyTorch fixture", async () => {
  const model = mobilenetV2({ numClasses: 5, widthMult: 0.5 });
  try {
    assert.equal(await checkOwnFixture("mobilenet_v2_w050.safetensors", model), 11);
  } finally {
    model.dispose();
  }
});
