import assert from "node:assert/strict";
import { WgslReflect } from "wgsl_reflect";

// The import map points at the ES module build, which carries no types: describe what we read.
interface TypeInfo {
  getTypeName(): string;
}
interface FunctionInfo {
  name: string;
  arguments: { name: string; type: TypeInfo }[];
  returnType: TypeInfo | null;
  calls: Set<FunctionInfo>;
}

const source = Deno.readTextFileSync(
  new URL("../../../kernels/random/philox.wgsl", import.meta.url),
);

Deno.test("philox.wgsl: parses, has no entry point, exports philox4x32_10(vec4u, vec2u) -> vec4u", () => {
  const reflect = new WgslReflect(source);
  const { compute, vertex, fragment } = reflect.entry;
  assert.equal(compute.length + vertex.length + fragment.length, 0);
  const fn: FunctionInfo | null = reflect.getFunctionInfo("philox4x32_10");
  assert.ok(fn, "philox4x32_10 is defined");
  const typeName = (t: TypeInfo | null) => t?.getTypeName();
  assert.deepEqual(fn.arguments.map((a) => [a.name, typeName(a.type)]), [
    ["ctr", "vec4u"],
    ["key", "vec2u"],
  ]);
  assert.equal(typeName(fn.returnType), "vec4u");
});

Deno.test("philox.wgsl: uses the Random123 Philox4x32 constants", () => {
  for (const constant of ["0xd2511f53u", "0xcd9e8d57u", "0x9e3779b9u", "0xbb67ae85u"]) {
    assert.ok(source.includes(constant), constant);
  }
  assert.match(source, /i < 10u/, "10 rounds");
});

Deno.test("philox.wgsl: a kernel that includes it parses and calls it", () => {
  const kernel = source + `
@group(0) @binding(0) var<storage, read_write> out: array<vec4<u32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  out[id.x] = philox4x32_10(vec4<u32>(id.x, 0u, 0u, 0u), vec2<u32>(1u, 2u));
}`;
  const reflect = new WgslReflect(kernel);
  assert.deepEqual(reflect.entry.compute.map((f: FunctionInfo) => f.name), ["main"]);
  const main: FunctionInfo = reflect.getFunctionInfo("main");
  const calls = [...main.calls].map((f) => f.name);
  assert.ok(calls.includes("philox4x32_10"), `main calls ${calls}`);
  // The parser does reject broken WGSL, so the tests above are not vacuous.
  assert.throws(() => new WgslReflect(source.replace("return c;", "return c")));
});
