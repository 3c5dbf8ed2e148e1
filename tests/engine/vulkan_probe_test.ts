import assert from "node:assert/strict";
import { explainNoDawnAdapter, type VulkanProbe } from "../../engine/vulkan_probe.ts";

const healthy: VulkanProbe = {
  loader: true,
  icdSource: "/usr/share/vulkan/icd.d",
  icds: ["lvp_icd.json"],
  mesaVersion: "25.0.7-2~bpo12+1",
};

Deno.test("explainNoDawnAdapter: names the missing piece and the package that brings it", () => {
  const cases: [Partial<VulkanProbe>, RegExp][] = [
    [{ loader: false }, /libvulkan\.so\.1 is missing: .*apt-get install libvulkan1$/],
    [
      { icds: [], icdSource: "VK_ICD_FILENAMES=/nope.json" },
      /no Vulkan driver \(ICD manifest\) in VK_ICD_FILENAMES=\/nope\.json: .*mesa-vulkan-drivers/,
    ],
    [
      { mesaVersion: "22.3.6-1+deb12u1" },
      /^Mesa 22\.3\.6-1\+deb12u1 is too old for Dawn .*>= 23.*mesa-vulkan-drivers.*bookworm-backports/,
    ],
    [{ mesaVersion: "1:20.3.5-1" }, /^Mesa 1:20\.3\.5-1 is too old/], // an epoch prefix
    [{}, /^Vulkan found no device it can use \(.*lvp_icd\.json, Mesa 25\.0\.7/],
    [
      { mesaVersion: undefined },
      /^Vulkan found no device it can use \(loader present, drivers lvp/,
    ],
  ];
  for (const [change, expected] of cases) {
    const message = explainNoDawnAdapter({ ...healthy, ...change });
    assert.match(message, expected, JSON.stringify(change));
    assert.doesNotMatch(message, /\n/);
  }
  // The loader is checked first: without it the drivers cannot matter.
  assert.match(explainNoDawnAdapter({ ...healthy, loader: false, icds: [] }), /libvulkan1/);
});

Deno.test("explainNoDawnAdapter: a load error is reported as raised, first line only", () => {
  const error = new Error("GLIBC_2.38 not found (required by dawn.node)\n  at load");
  assert.equal(
    explainNoDawnAdapter(healthy, error),
    "npm:webgpu failed to load: GLIBC_2.38 not found (required by dawn.node)",
  );
});
