import assert from "node:assert/strict";
import { isMesaAdapter, mesaFromDescription, mesaVersion } from "../../engine/mesa.ts";
import type { AdapterDescription } from "../../engine/device.ts";

// The adapters as each backend describes them on this project's machines (akd info --json).
const DAWN_LLVMPIPE: AdapterDescription = {
  vendor: "mesa",
  architecture: "software",
  device: "llvmpipe-llvm-15-0-6-256-bits-",
  description: "llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1",
  isFallback: true,
};
const NATIVE_LLVMPIPE: AdapterDescription = {
  vendor: "65541",
  architecture: "",
  device: "0",
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
  isFallback: true,
};
const NVIDIA: AdapterDescription = {
  vendor: "4318",
  architecture: "",
  device: "8994",
  description: "NVIDIA H100 80GB HBM3",
  isFallback: false,
};

const dpkgSays = (version: string | undefined) => (pkg: string) => {
  assert.equal(pkg, "mesa-vulkan-drivers");
  return Promise.resolve(version);
};

Deno.test("mesaFromDescription: the version in Vulkan's driver info, none elsewhere", () => {
  assert.equal(mesaFromDescription(DAWN_LLVMPIPE.description), "25.0.7-2~bpo12+1");
  assert.equal(
    mesaFromDescription("radv: Mesa 25.2.4-1~bpo13+1 (LLVM 19.1.7)"),
    "25.2.4-1~bpo13+1",
  );
  assert.equal(mesaFromDescription("Mesa 24.1.0-devel (git-1a2b3c)"), "24.1.0-devel");
  assert.equal(mesaFromDescription(NATIVE_LLVMPIPE.description), undefined);
  assert.equal(mesaFromDescription("NVIDIA 550.54.14"), undefined);
});

Deno.test("isMesaAdapter: by Mesa's vendor id, vendor name or driver name", () => {
  assert.ok(isMesaAdapter(DAWN_LLVMPIPE));
  assert.ok(isMesaAdapter(NATIVE_LLVMPIPE));
  assert.ok(isMesaAdapter({ ...NVIDIA, vendor: "4098", description: "AMD Radeon (RADV NAVI21)" }));
  assert.ok(!isMesaAdapter(NVIDIA));
});

Deno.test("mesaVersion: the adapter's words first, the dpkg package only for a Mesa adapter", async () => {
  // Dawn: from the description, even when the package says something else.
  assert.deepEqual(await mesaVersion(DAWN_LLVMPIPE, dpkgSays("24.0.0-1")), {
    version: "25.0.7-2~bpo12+1",
    source: "adapter",
  });
  // The built-in backend's llvmpipe: the package stands in, and says so.
  assert.deepEqual(await mesaVersion(NATIVE_LLVMPIPE, dpkgSays("25.0.7-2~bpo12+1")), {
    version: "25.0.7-2~bpo12+1",
    source: "dpkg mesa-vulkan-drivers",
  });
  assert.equal(await mesaVersion(NATIVE_LLVMPIPE, dpkgSays(undefined)), undefined);
  // An NVIDIA driver on a machine that also has Mesa installed is not Mesa.
  assert.equal(await mesaVersion(NVIDIA, dpkgSays("25.0.7-2~bpo12+1")), undefined);
});
