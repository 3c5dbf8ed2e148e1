import assert from "node:assert/strict";
import { join } from "node:path";
import { gpuTest } from "../../gpu.ts";
import { fixture } from "../../fixtures.ts";
import { Module, type StateSource } from "../../../engine/nn/module.ts";
import { loadSafetensorsInto } from "../../../engine/nn/load.ts";
import { engine } from "../../../engine/context.ts";
import { InputError } from "../../../engine/errors.ts";
import { scope, tensor } from "../../../engine/tensor.ts";
import { full } from "../../../engine/ops/elementwise.ts";
import { loadSafetensors, saveSafetensors } from "../../../engine/safetensors.ts";

/** BatchNorm-shaped: two parameters, three buffers (num_batches_tracked is i32, from I64). */
class Norm extends Module {
  constructor(c: number) {
    super();
    this.param("weight", full([c], 1));
    this.param("bias", full([c], 0));
    this.buffer("running_mean", full([c], 0));
    this.buffer("running_var", full([c], 1));
    this.buffer("num_batches_tracked", tensor(Int32Array.of(0), [], "i32"));
  }
}

class Block extends Module {
  constructor(c: number) {
    super();
    this.param("conv1", full([c, c], 0.5));
    this.child("bn1", new Norm(c));
  }
}

class Net extends Module {
  constructor() {
    super();
    this.param("conv1", full([4, 3], 0.25));
    this.child("bn1", new Norm(4));
    const layer1 = this.child("layer1", new Module());
    layer1.child("0", new Block(4));
    layer1.child("1", new Block(4));
  }
}

gpuTest("names, order and state dict follow PyTorch (own params, own buffers, children)", () => {
  const net = new Net();
  assert.deepEqual(net.namedParameters().map(([n]) => n), [
    "conv1",
    "bn1.weight",
    "bn1.bias",
    "layer1.0.conv1",
    "layer1.0.bn1.weight",
    "layer1.0.bn1.bias",
    "layer1.1.conv1",
    "layer1.1.bn1.weight",
    "layer1.1.bn1.bias",
  ]);
  assert.deepEqual(net.namedBuffers().map(([n]) => n).slice(0, 3), [
    "bn1.running_mean",
    "bn1.running_var",
    "bn1.num_batches_tracked",
  ]);
  assert.deepEqual([...net.stateDict().keys()].slice(0, 7), [
    "conv1",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "bn1.num_batches_tracked",
    "layer1.0.conv1",
  ]);
  assert.equal(net.stateDict().size, 9 + 9);
  assert.deepEqual(net.namedModules().map(([n]) => n), [
    "",
    "bn1",
    "layer1",
    "layer1.0",
    "layer1.0.bn1",
    "layer1.1",
    "layer1.1.bn1",
  ]);
  assert.throws(() => net.param("conv1", full([1], 0)), /registered twice/);
  assert.throws(() => net.child("a.b", new Module()), /invalid/);
  net.dispose();
});

gpuTest(
  "strict loadStateDict: one InputError listing missing, unexpected, mis-shaped",
  async () => {
    const net = new Net();
    const good = new Map([...net.stateDict()].map(([k, t]) => [k, t]));
    const bad = new Map<
      string,
      StateSource
    >(good);
    bad.delete("bn1.bias");
    bad.delete("layer1.1.bn1.running_var");
    bad.set("fc.weight", { dtype: "f32", shape: [2, 2], data: new Float32Array(4) });
    bad.set("conv1", { dtype: "f32", shape: [3, 4], data: new Float32Array(12).fill(9) });
    bad.set("bn1.num_batches_tracked", { dtype: "f32", shape: [], data: new Float32Array(1) });
    let message = "";
    try {
      net.loadStateDict(bad, { source: "ckpt.safetensors" });
    } catch (e) {
      assert.ok(e instanceof InputError);
      message = e.message;
    }
    assert.ok(!message.includes("\n"), "one line");
    for (
      const part of [
        "ckpt.safetensors: ",
        "missing (2): bn1.bias f32[4]; layer1.1.bn1.running_var f32[4]",
        "unexpected (1): fc.weight f32[2, 2]",
        "mismatched (2): conv1: expected f32[4, 3], got f32[3, 4]; " +
        "bn1.num_batches_tracked: expected i32[], got f32[]",
      ]
    ) assert.ok(message.includes(part), `${message} lacks ${part}`);
    // Nothing was loaded.
    assert.deepEqual([...(await net.parameters()[0].read())], new Array(12).fill(0.25));

    const report = net.loadStateDict(bad, { strict: false });
    assert.equal(report.missing.length, 2);
    assert.equal(report.unexpected.length, 1);
    assert.equal(report.mismatched.length, 2);
    net.dispose();
  },
);

gpuTest("loadStateDict copies host and device tensors; saved file loads back", async () => {
  const net = new Net();
  const src = new Map<
    string,
    StateSource
  >();
  const other = new Net();
  for (const [k, t] of other.stateDict()) src.set(k, t);
  src.set("conv1", {
    dtype: "f32",
    shape: [4, 3],
    data: Float32Array.from({ length: 12 }, (_, i) => i),
  });
  src.set("bn1.num_batches_tracked", { dtype: "i32", shape: [], data: Int32Array.of(42) });
  assert.deepEqual(net.loadStateDict(src), { missing: [], unexpected: [], mismatched: [] });
  const sd = net.stateDict();
  assert.deepEqual([...(await sd.get("conv1")!.read())], [...Array(12).keys()]);
  assert.deepEqual([...(await sd.get("bn1.num_batches_tracked")!.read())], [42]);
  assert.deepEqual([...(await sd.get("layer1.0.conv1")!.read())], new Array(16).fill(0.5));

  const dir = await Deno.makeTempDir();
  const path = join(dir, "net.safetensors");
  const host = new Map();
  for (const [k, t] of sd) {
    host.set(k, { dtype: t.dtype, shape: [...t.shape], data: await t.read() });
  }
  await saveSafetensors(path, host);
  const fresh = new Net();
  await loadSafetensorsInto(fresh, path);
  assert.deepEqual([...(await fresh.stateDict().get("conv1")!.read())], [...Array(12).keys()]);
  await assert.rejects(() => loadSafetensorsInto(new Net(), join(dir, "none")), InputError);
  await Deno.remove(dir, { recursive: true });
  for (const m of [net, other, fresh]) m.dispose();
});

gpuTest(
  "parameters survive scopes; dispose frees them; train/eval and zeroGrad recurse",
  async () => {
    const e = engine();
    await e.sync();
    const before = e.pool.liveBytes;
    const net = scope(() => new Net());
    assert.ok(!net.parameters()[0].disposed, "kept out of the scope");
    assert.ok(net.parameters().every((p) => p.requiresGrad));
    assert.ok(net.namedBuffers().every(([, b]) => !b.requiresGrad));
    net.eval();
    assert.ok(net.namedModules().every(([, m]) => !m.training));
    net.train();
    assert.ok(net.namedModules().every(([, m]) => m.training));
    net.setRequiresGrad(false);
    assert.ok(net.parameters().every((p) => !p.requiresGrad));
    for (const p of net.parameters()) p.grad = full(p.shape, 1);
    net.zeroGrad();
    assert.ok(net.parameters().every((p) => p.grad === undefined));
    net.dispose();
    await e.sync();
    assert.equal(e.pool.liveBytes, before);
  },
);

gpuTest("loads conv1/bn1 of the torchvision ResNet-18 fixture by name (I64 → i32)", async () => {
  const resnet = fixture("resnet18", "model.safetensors");
  class Stem extends Module {
    constructor() {
      super();
      this.param("weight", full([8, 3, 7, 7], 0));
    }
  }
  const m = new Module();
  m.child("conv1", new Stem());
  m.child("bn1", new Norm(8));
  const report = await loadSafetensorsInto(m, resnet, { strict: false });
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.mismatched, []);
  assert.ok(report.unexpected.some((u) => u.startsWith("fc.weight ")));
  const file = (await loadSafetensors(resnet)).tensors;
  for (const name of ["conv1.weight", "bn1.running_var", "bn1.num_batches_tracked"]) {
    const got = await m.stateDict().get(name)!.read();
    assert.deepEqual([...got], [...file.get(name)!.data], name);
  }
  await assert.rejects(() => loadSafetensorsInto(m, resnet), /unexpected \(\d+\): /);
  m.dispose();
});
