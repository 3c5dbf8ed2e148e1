import assert from "node:assert/strict";
import { akd } from "./run_cli.ts";
import { gpuTest } from "../gpu.ts";
import { engine } from "../../engine/context.ts";
import { AUTO_ORDER } from "../../engine/device.ts";
import { mesaFromDescription } from "../../engine/mesa.ts";
import { debianVersion } from "../../engine/vulkan_probe.ts";

gpuTest("akd info --json describes the adapter the engine opens in-process", async (backend) => {
  const r = await akd(["info", "--backend", backend, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(info).sort(), [
    "adapter",
    "backend",
    "deno",
    "fallback",
    "features",
    "limits",
    "mesa",
  ]);
  assert.equal(info.backend, backend);
  assert.equal(info.deno, Deno.version.deno);
  const { adapter } = info;
  for (const key of ["vendor", "architecture", "device", "description"]) {
    assert.equal(typeof adapter[key], "string", `adapter.${key}`);
  }
  assert.ok(adapter.description.trim().length > 0, "the adapter has a description");
  assert.equal(typeof adapter.isFallback, "boolean");
  assert.equal(info.fallback, adapter.isFallback);
  assert.ok(
    Array.isArray(info.features) && info.features.every((f: unknown) => typeof f === "string"),
  );
  assert.deepEqual(info.features, [...info.features].sort(), "features are sorted");
  for (const [k, v] of Object.entries(info.limits)) {
    assert.ok(Number.isInteger(v) && (v as number) >= 0, `limits.${k} = ${v}`);
  }
  assert.ok(info.limits.maxStorageBufferBindingSize > 0);
  // Mesa: Dawn's description carries the driver's version; the built-in backend's does not, so
  // the installed package stands in. Both name the same Mesa here (one Vulkan driver installed).
  const fromAdapter = mesaFromDescription(adapter.description);
  const installed = await debianVersion("mesa-vulkan-drivers");
  if (fromAdapter) assert.deepEqual(info.mesa, { version: fromAdapter, source: "adapter" });
  else if (installed && /llvmpipe/.test(adapter.description)) {
    assert.deepEqual(info.mesa, { version: installed, source: "dpkg mesa-vulkan-drivers" });
  }
  if (installed && /llvmpipe/.test(adapter.description)) {
    assert.equal(info.mesa?.version, installed, "the running Mesa is the installed package");
  }
  const text = await akd(["info", "--backend", backend]);
  assert.equal(text.code, 0, text.stderr);
  const shown = info.mesa ? `${RegExp.escape(info.mesa.version)} \\(` : "- \\(";
  assert.match(text.stdout, new RegExp(`^mesa +${shown}`, "m"));
  // The child process sees what this process's engine on the same backend sees.
  const gpu = engine().gpu;
  assert.deepEqual(adapter, gpu.adapter);
  assert.deepEqual(info.features, [...gpu.features].sort());
  assert.deepEqual(info.limits, gpu.limits);
});

Deno.test("akd info: no Vulkan driver for Dawn → one clear message, exit 1", async () => {
  const none = "/nonexistent/icd.json";
  const r = await akd(["info", "--backend", "dawn"], {
    VK_ICD_FILENAMES: none,
    VK_DRIVER_FILES: none,
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /akd: .*no WebGPU adapter.*install/);
});

Deno.test("akd: a bad flag value is exit 2 naming the flag", async () => {
  const r = await akd(["info", "--backend", "cuda"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--backend/);
});

Deno.test("akd info: auto takes the first backend of AUTO_ORDER that has an adapter", async () => {
  const r = await akd(["info", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  let first: string | undefined;
  for (const backend of AUTO_ORDER) {
    if ((await akd(["info", "--backend", backend, "--json"])).code === 0) {
      first = backend;
      break;
    }
  }
  assert.equal(JSON.parse(r.stdout).backend, first);
});
