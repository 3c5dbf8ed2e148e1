/**
 * tools/prereq.sh's Mesa choice as a non-root user, against stand-ins for dpkg-query, apt-cache
 * and id on PATH (nothing is installed; the root path, which edits apt's sources, is not run).
 */
import assert from "node:assert/strict";
import { withTempDir } from "../temp_dir.ts";

const SCRIPT = new URL("../../tools/prereq.sh", import.meta.url).pathname;
const codename = (await Deno.readTextFile("/etc/os-release").catch(() => ""))
  .match(/^VERSION_CODENAME=(\S+)$/m)?.[1];
const debian = codename === "bookworm" || codename === "trixie";

/** Runs the script with `installed` packages and apt's `known` (suite → mesa version) lists. */
async function prereq(installed: Record<string, string>, known: Record<string, string>) {
  let result!: { code: number; stderr: string };
  await withTempDir(async (dir) => {
    const fake = (name: string, body: string) =>
      Deno.writeTextFile(`${dir}/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    const versions = Object.entries(installed).map(([p, v]) => `${p} ${v}`).join("\n");
    await Deno.writeTextFile(`${dir}/installed`, versions + "\n");
    // dpkg-query -W -f='${Status} ${Version}\n' PKG
    await fake(
      "dpkg-query",
      `awk -v p="$3" '$1 == p { print "install ok installed " $2; found = 1 } END { exit !found }' ${dir}/installed`,
    );
    const madison = Object.entries(known).map(([suite, v]) =>
      ` mesa-vulkan-drivers | ${v} | http://deb.debian.org/debian ${suite}/main amd64 Packages`
    ).join("\n");
    await Deno.writeTextFile(`${dir}/madison`, madison + "\n");
    await fake("apt-cache", `cat ${dir}/madison`);
    await fake("id", "echo 1000");
    const out = await new Deno.Command("bash", {
      args: [SCRIPT],
      env: { PATH: `${dir}:${Deno.env.get("PATH")}` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    result = { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  });
  return result;
}

const rest = { libvulkan1: "1.3", "dataset-fashion-mnist": "0.0" };

Deno.test({
  name: "prereq.sh: a newer Mesa in the release's backports is named, with its command",
  ignore: !debian,
  fn: async () => {
    const r = await prereq({ ...rest, "mesa-vulkan-drivers": "25.0.7-2" }, {
      [codename!]: "25.0.7-2",
      [`${codename}-backports`]: "25.2.4-1~bpo13+1",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `mesa-vulkan-drivers 25\\.0\\.7-2 is installed; ${codename}-backports has 25\\.2\\.4-1~bpo13\\+1.*` +
          `apt-get install -t ${codename}-backports mesa-vulkan-drivers`,
      ),
    );
  },
});

Deno.test({
  name: "prereq.sh: quiet when the installed Mesa is the backports' newest (or newer)",
  ignore: !debian,
  fn: async () => {
    for (const mesa of ["25.2.4-1~bpo13+1", "25.3.0-1"]) {
      const r = await prereq({ ...rest, "mesa-vulkan-drivers": mesa }, {
        [`${codename}-backports`]: "25.2.4-1~bpo13+1",
      });
      assert.deepEqual(r, { code: 0, stderr: "" }, mesa);
    }
  },
});

Deno.test({
  name: "prereq.sh: a Mesa older than 23 is missing: exit 2 with the backports command",
  ignore: !debian,
  fn: async () => {
    const r = await prereq({ ...rest, "mesa-vulkan-drivers": "22.3.6-1+deb12u2" }, {
      [`${codename}-backports`]: "25.0.7-2~bpo12+1",
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /missing mesa-vulkan-drivers\. Run/);
    assert.match(
      r.stderr,
      new RegExp(`apt-get install .*-t ${codename}-backports mesa-vulkan-drivers`),
    );
  },
});
