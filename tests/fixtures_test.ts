import assert from "node:assert/strict";
import { join } from "node:path";
import { fixture, fixturesDir, fixturesDirFor } from "./fixtures.ts";

Deno.test("fixtures: the in-repo copy by default, AKD_FIXTURES when it names a folder", async () => {
  const inRepo = fixturesDirFor(undefined);
  assert.equal(inRepo, new URL("./fixtures/reference", import.meta.url).pathname);
  assert.ok((await Deno.stat(join(inRepo, "README.md"))).isFile);
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(fixturesDirFor(dir), dir);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("fixtures: an AKD_FIXTURES that is not a folder is an error naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "");
    for (const value of [join(dir, "none"), file, ""]) {
      assert.throws(
        () => fixturesDirFor(value),
        (e: Error) => e.message === `AKD_FIXTURES=${JSON.stringify(value)} is not a folder`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fixtures: a missing fixture file is an error naming its path", () => {
  const path = join(fixturesDir(), "resnet18", "no.safetensors");
  assert.throws(() => fixture("resnet18", "no.safetensors"), {
    message: `fixture ${path} is missing`,
  });
  assert.equal(fixture("resnet18", "case.json"), join(fixturesDir(), "resnet18", "case.json"));
});
