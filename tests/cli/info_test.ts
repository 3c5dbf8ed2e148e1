import assert from "node:assert/strict";
import { akd } from "./run_cli.ts";
import { testBackends } from "../gpu.ts";
import { AUTO_ORDER } from "../../engine/device.ts";

for (const backend of testBackends()) {
  Deno.test(`akd info --json names the adapter [${backend}]`, async () => {
    const r = await akd(["info", "--backend", backend, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.backend, backend);
    assert.ok((info.adapter.description || info.adapter.device).length > 0, r.stdout);
    assert.ok(info.limits.maxStorageBufferBindingSize > 0);
    assert.equal(typeof info.fallback, "boolean");
  });
}

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

Deno.test("akd info: auto takes the backend AUTO_ORDER puts first for the adapter", async () => {
  const r = await akd(["info", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.backend, AUTO_ORDER[info.fallback ? "software" : "hardware"][0]);
});
