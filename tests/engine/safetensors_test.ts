import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "../../engine/errors.ts";
import {
  type HostTensor,
  loadSafetensors,
  readSafetensors,
  SafetensorsReader,
  saveSafetensors,
  writeSafetensors,
} from "../../engine/safetensors.ts";
import { fixture, fixturesDir } from "../fixtures.ts";

/** A file from a header (object or raw text) and data bytes; `headerLength` overrides the prefix. */
function build(header: unknown, data: ArrayLike<number> = [], headerLength?: number): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function bytesOf(array: ArrayBufferView): number[] {
  return [...new Uint8Array(array.buffer, array.byteOffset, array.byteLength)];
}

/** Asserts `fn` throws an InputError whose message names the file and contains `what`. */
function assertBad(fn: () => unknown, what: string | RegExp, file = "bad.safetensors"): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.ok(e.message.startsWith(file), e.message);
    if (typeof what === "string") assert.ok(e.message.includes(what), e.message);
    else assert.match(e.message, what);
    return true;
  });
}

const read = (bytes: Uint8Array) => () => readSafetensors(bytes, "bad.safetensors");

Deno.test("safetensors: f32/i32/u8/bool round trip, scalars, empty tensors, metadata", () => {
  const tensors: Record<string, HostTensor> = {
    "w": { dtype: "f32", shape: [2, 3], data: new Float32Array([1, -2.5, 3e-8, NaN, -0, 1e30]) },
    "idx": { dtype: "i32", shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
    "mask": { dtype: "bool", shape: [3], data: new Uint8Array([1, 0, 1]) },
    "pix": { dtype: "u8", shape: [1, 3], data: new Uint8Array([0, 128, 255]) },
    "scale": { dtype: "f32", shape: [], data: new Float32Array([4.25]) },
    "none": { dtype: "f32", shape: [0, 5], data: new Float32Array(0) },
  };
  const meta = { budget: "16", note: "ünïcode ✓" };
  const file = readSafetensors(writeSafetensors(tensors, meta));
  assert.deepEqual(file.metadata, meta);
  assert.deepEqual([...file.tensors.keys()].sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    const got = file.tensors.get(name)!;
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.equal(got.data.constructor, t.data.constructor, name);
    assert.deepEqual(bytesOf(got.data), bytesOf(t.data), name); // bit-exact, NaN and -0 included
  }
});

Deno.test("safetensors: output is deterministic, aligned and space-padded", () => {
  const a: HostTensor = { dtype: "u8", shape: [3], data: new Uint8Array([1, 2, 3]) };
  const b: HostTensor = { dtype: "f32", shape: [1], data: new Float32Array([7]) };
  const c: HostTensor = { dtype: "i32", shape: [2], data: new Int32Array([5, 6]) };
  const one = writeSafetensors(new Map([["a", a], ["b", b], ["c", c]]), { x: "1", y: "2" });
  const two = writeSafetensors({ c, b, a }, { y: "2", x: "1" });
  assert.deepEqual(one, two);

  const headerLength = Number(new DataView(one.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
  const text = new TextDecoder().decode(one.subarray(8, 8 + headerLength));
  assert.match(text, /^\{.*\} *$/);
  const header = JSON.parse(text);
  assert.deepEqual(Object.keys(header), ["__metadata__", "a", "b", "c"]);
  // 4-byte tensors first, so each starts at a multiple of its element size.
  assert.deepEqual(header.b.data_offsets, [0, 4]);
  assert.deepEqual(header.c.data_offsets, [4, 12]);
  assert.deepEqual(header.a.data_offsets, [12, 15]);
  assert.equal(one.length, 8 + headerLength + 15);
});

Deno.test("safetensors: F16 and BF16 widen to f32 with exact values", () => {
  const half = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x03ff, 1023 * 2 ** -24],
    [0x0001, 2 ** -24],
    [0x8000, -0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  const bf16 = [
    [0x3f80, 1],
    [0xc040, -3],
    [0x4049, 3.140625],
    [0x0001, 2 ** -133],
    [0x7f7f, 3.3895313892515355e38],
    [0xff80, -Infinity],
  ];
  const u16 = (pairs: number[][]) => bytesOf(new Uint16Array([...pairs.map(([h]) => h), 0x7e00]));
  const halfBytes = u16(half);
  const bfBytes = u16(bf16).slice(0, -2).concat(bytesOf(new Uint16Array([0x7fc0])));
  const file = readSafetensors(build({
    h: { dtype: "F16", shape: [half.length + 1], data_offsets: [0, halfBytes.length] },
    b: {
      dtype: "BF16",
      shape: [bf16.length + 1],
      data_offsets: [halfBytes.length, halfBytes.length + bfBytes.length],
    },
  }, [...halfBytes, ...bfBytes]));
  for (const [name, pairs] of [["h", half], ["b", bf16]] as const) {
    const t = file.tensors.get(name)!;
    assert.equal(t.dtype, "f32");
    assert.deepEqual([...t.data].slice(0, -1), pairs.map(([, v]) => v));
    assert.ok(Number.isNaN(t.data[pairs.length]), `${name} NaN`);
  }
});

Deno.test("safetensors: F64 narrows to f32; a finite value beyond f32 is an error", () => {
  const values = bytesOf(new Float64Array([1.5, -0.1, 1e-50, -Infinity]));
  const t = readSafetensors(
    build({ d: { dtype: "F64", shape: [2, 2], data_offsets: [0, 32] } }, values),
  )
    .tensors.get("d")!;
  assert.equal(t.dtype, "f32");
  assert.deepEqual([...t.data], [1.5, Math.fround(-0.1), 0, -Infinity]);
  const huge = bytesOf(new Float64Array([0, 1e300]));
  assertBad(
    read(build({ big: { dtype: "F64", shape: [2], data_offsets: [0, 16] } }, huge)),
    /tensor "big" F64 element 1 = 1e\+300 does not fit in float32/,
  );
});

Deno.test("safetensors: I64 narrows to i32 with a range check naming the tensor", () => {
  const i64 = (vs: bigint[]) => bytesOf(new BigInt64Array(vs));
  const ok = i64([0n, -1n, 2147483647n, -2147483648n, 12345n]);
  const t = readSafetensors(build({ n: { dtype: "I64", shape: [5], data_offsets: [0, 40] } }, ok))
    .tensors.get("n")!;
  assert.equal(t.dtype, "i32");
  assert.deepEqual([...t.data], [0, -1, 2147483647, -2147483648, 12345]);
  for (const bad of [2147483648n, -2147483649n, 1n << 32n, -(1n << 62n)]) {
    assertBad(
      read(build({ steps: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, i64([7n, bad]))),
      `tensor "steps" I64 element 1 = ${bad} does not fit in int32`,
    );
  }
});

Deno.test("safetensors: U8 and BOOL read as is; a BOOL byte other than 0/1 is an error", () => {
  const file = readSafetensors(build({
    u: { dtype: "U8", shape: [2], data_offsets: [0, 2] },
    b: { dtype: "BOOL", shape: [2], data_offsets: [2, 4] },
  }, [200, 3, 1, 0]));
  assert.deepEqual(file.tensors.get("u"), {
    dtype: "u8",
    shape: [2],
    data: new Uint8Array([200, 3]),
  });
  assert.deepEqual(file.tensors.get("b"), {
    dtype: "bool",
    shape: [2],
    data: new Uint8Array([1, 0]),
  });
  assertBad(
    read(build({ b: { dtype: "BOOL", shape: [2], data_offsets: [0, 2] } }, [1, 2])),
    'tensor "b" BOOL element 1 is 2',
  );
});

Deno.test("safetensors: valid edge cases are accepted", () => {
  const empty = readSafetensors(build({}));
  assert.equal(empty.tensors.size, 0);
  assert.deepEqual(empty.metadata, {});
  // Trailing spaces, a zero-size tensor sharing an offset, tensors listed out of data order.
  const file = readSafetensors(build(
    '{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},' +
      '"z":{"dtype":"F32","shape":[0],"data_offsets":[1,1]},' +
      '"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}   ',
    [9, 8],
  ));
  assert.deepEqual([...file.tensors.get("a")!.data, ...file.tensors.get("b")!.data], [9, 8]);
  assert.deepEqual(file.tensors.get("z")!.shape, [0]);
});

Deno.test("safetensors: aligned data is read without a copy, misaligned data via one", () => {
  const values = new Float32Array([1.25, -7, 3e38]);
  const aligned = writeSafetensors({ v: { dtype: "f32", shape: [3], data: values } });
  const view = readSafetensors(aligned).tensors.get("v")!.data;
  assert.equal(view.buffer, aligned.buffer);
  assert.deepEqual(view, values);
  // An unpadded header (legal) puts the data at an odd byte.
  const header = '{"v":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}';
  const misaligned = build(header, bytesOf(values));
  assert.equal((8 + header.length) % 2, 1);
  const copy = readSafetensors(misaligned).tensors.get("v")!.data;
  assert.notEqual(copy.buffer, misaligned.buffer);
  assert.deepEqual(copy, values);
});

Deno.test("safetensors: every malformed file is an InputError naming file and fault", async () => {
  const f32 = (offsets: unknown, shape: unknown = [1]) => ({
    dtype: "F32",
    shape,
    data_offsets: offsets,
  });
  const four = [0, 0, 128, 63];
  const cases: [Uint8Array, string | RegExp][] = [
    [new Uint8Array(5), "file is 5 bytes, shorter than the 8-byte header length"],
    [build({}, [], 100), "header length 100 exceeds the 2 bytes after it"],
    [build({}, [], 2 ** 40), /header length \d+ exceeds/],
    [build('{"a": [1,'), "header is not UTF-8 JSON"],
    [build(""), "header is not UTF-8 JSON"],
    [
      (() => {
        const b = build('{"x":1}');
        b[10] = 0xff;
        return b;
      })(),
      "header is not UTF-8 JSON",
    ],
    [build("[1,2]"), "header is not a JSON object"],
    [build("null"), "header is not a JSON object"],
    [build({ t: 5 }), 'tensor "t" is not a JSON object'],
    [build({ t: { shape: [1], data_offsets: [0, 4] } }, four), 'tensor "t" has no string "dtype"'],
    [build({ t: { ...f32([0, 4]), dtype: "F17" } }, four), 'tensor "t" has unknown dtype "F17"'],
    [build({ t: { ...f32([0, 2]), dtype: "I16" } }, [1, 0]), "dtype I16, which this engine cannot"],
    [build({ t: f32([0, 4], [-1]) }, four), '"shape" is not an array of non-negative integers'],
    [build({ t: f32([0, 4], [1.5]) }, four), '"shape" is not an array'],
    [build({ t: f32([0, 4], "1") }, four), '"shape" is not an array'],
    [build({ t: f32([0]) }, four), '"data_offsets" is not [begin, end]'],
    [build({ t: f32([0, "4"]) }, four), '"data_offsets" is not [begin, end]'],
    [build({ t: f32([4, 0]) }, four), "data_offsets [4, 0] end before they begin"],
    [
      build({ t: f32([0, 8], [1]) }, [...four, ...four]),
      "F32 [1] needs 4 bytes but data_offsets span 8",
    ],
    [build({ t: f32([0, 2], [1]) }, [0, 0]), "F32 [1] needs 4 bytes but data_offsets span 2"],
    [build({ t: f32([4, 8]) }, four), "data_offsets [4, 8] lie beyond the 4 data bytes"],
    [
      build({ a: f32([0, 8], [2]), b: f32([4, 12], [2]) }, new Array(12).fill(0)),
      'tensors "a" and "b" overlap',
    ],
    [build({ a: f32([4, 8]) }, [...four, ...four]), "bytes 0..4 of the data belong to no tensor"],
    [build({ a: f32([0, 4]) }, [...four, 1]), "data is 5 bytes but the tensors cover only 4"],
    [build({ __metadata__: [] }), "__metadata__ is not a JSON object"],
    [build({ __metadata__: { n: 3 } }), '__metadata__ value "n" is not a string'],
  ];
  for (const [bytes, what] of cases) assertBad(read(bytes), what);

  // The on-demand reader parses the same header with the same checks.
  const dir = Deno.makeTempDirSync();
  try {
    for (const [bytes, what] of cases.filter(([, w]) => !/dtype I16|BOOL element/.test(`${w}`))) {
      const path = join(dir, "bad.safetensors");
      Deno.writeFileSync(path, bytes);
      await assert.rejects(SafetensorsReader.open(path), (e: unknown) => {
        assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
        assert.ok(e.message.startsWith(path), e.message);
        if (typeof what === "string") assert.ok(e.message.includes(what), e.message);
        else assert.match(e.message, what);
        return true;
      });
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("safetensors: the reader gives whole tensors as loadSafetensors does, and F32 rows", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "r.safetensors");
    const m = Float32Array.from({ length: 7 * 5 }, (_, i) => i * 0.25 - 3);
    await saveSafetensors(path, {
      m: { dtype: "f32", shape: [7, 5], data: m },
      i: { dtype: "i32", shape: [3], data: new Int32Array([4, -1, 9]) },
      b: { dtype: "u8", shape: [2], data: new Uint8Array([7, 8]) },
    }, { note: "x" });
    const loaded = await loadSafetensors(path);
    const reader = await SafetensorsReader.open(path);
    try {
      assert.deepEqual(reader.metadata, { note: "x" });
      assert.deepEqual([...reader.entries.keys()].sort(), ["b", "i", "m"]);
      for (const key of ["m", "i", "b"]) {
        assert.deepEqual(await reader.tensor(key), loaded.tensors.get(key), key);
      }
      assert.equal(await reader.tensor("absent"), undefined);
      for (const [row0, n] of [[0, 7], [0, 1], [3, 2], [6, 1], [7, 0], [2, 0]]) {
        assert.deepEqual([...await reader.f32Rows("m", row0, n)], [
          ...m.subarray(row0 * 5, (row0 + n) * 5),
        ]);
      }
      await assert.rejects(reader.f32Rows("m", 5, 3), /rows 5\.\.8 of "m" \[7,5\]/);
      await assert.rejects(reader.f32Rows("i", 0, 1), /needs an F32 tensor "i"/);
    } finally {
      reader.close();
    }
    await assert.rejects(SafetensorsReader.open(join(dir, "nope.safetensors")), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /nope\.safetensors: no such file/);
      return true;
    });
    await assert.rejects(SafetensorsReader.open(dir), /: is a directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: writing rejects inconsistent tensors", () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ t: { dtype: "f32", shape: [3], data: new Float32Array(2) } }, "has 3 elements, data has 2"],
    [
      { t: { dtype: "f32", shape: [2], data: new Int32Array(2) } },
      "dtype f32 needs a Float32Array",
    ],
    [{ t: { dtype: "f16", shape: [2], data: new Float32Array(2) } }, "unknown dtype f16"],
    [{ t: { dtype: "u8", shape: [-1], data: new Uint8Array(0) } }, "is not non-negative integers"],
    [{ __metadata__: { dtype: "u8", shape: [0], data: new Uint8Array(0) } }, "name is reserved"],
  ];
  for (const [tensors, what] of bad) {
    assertBad(
      () => writeSafetensors(tensors as Record<string, HostTensor>),
      what,
      "safetensors tensor",
    );
  }
  assertBad(
    () => writeSafetensors({}, { n: 3 } as unknown as Record<string, string>),
    'metadata "n" must be a string',
    "safetensors",
  );
});

Deno.test("safetensors: save is atomic (temp + rename) and load reports missing files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "w.safetensors");
    const t1: HostTensor = { dtype: "f32", shape: [2], data: new Float32Array([1, 2]) };
    await saveSafetensors(path, { t: t1 });
    await saveSafetensors(path, { t: { ...t1, data: new Float32Array([3, 4]) } }, { v: "2" });
    const loaded = await loadSafetensors(path);
    assert.deepEqual([...loaded.tensors.get("t")!.data], [3, 4]);
    assert.deepEqual(loaded.metadata, { v: "2" });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["w.safetensors"]); // no temporary file left behind

    await assert.rejects(
      saveSafetensors(join(dir, "missing", "x.safetensors"), { t: t1 }),
      Deno.errors.NotFound,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.safetensors"]);
    await assert.rejects(loadSafetensors(join(dir, "nope.safetensors")), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /nope\.safetensors: no such file/);
      return true;
    });
    await Deno.writeFile(join(dir, "short.safetensors"), new Uint8Array(3));
    await assert.rejects(loadSafetensors(join(dir, "short.safetensors")), /short\.safetensors: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The fixtures' safetensors files (README, "Cases"). */
const FIXTURE_FILES = [
  ...["clip_rn", "clip_vit", "mobilenet_v2", "resnet18"].flatMap((c) => [
    `${c}/io.safetensors`,
    `${c}/model.safetensors`,
  ]),
  ...[0, 1, 2, 3].map((i) => `select/select_${i}.safetensors`),
];

function* safetensorsFiles(dir: string, under = ""): Generator<string> {
  for (const entry of Deno.readDirSync(join(dir, under))) {
    const path = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory) yield* safetensorsFiles(dir, path);
    else if (entry.name.endsWith(".safetensors")) yield path;
  }
}

Deno.test("safetensors: every PyTorch fixture file loads and round-trips", async () => {
  for (const name of FIXTURE_FILES) {
    const path = fixture(name);
    const file = await loadSafetensors(path);
    assert.ok(file.tensors.size > 0, path);
    for (const [name, t] of file.tensors) {
      assert.equal(t.data.length, t.shape.reduce((a, b) => a * b, 1), `${path} ${name}`);
      if (t.dtype === "f32") assert.ok(t.data.every(Number.isFinite), `${path} ${name}`);
    }
    const again = readSafetensors(writeSafetensors(file.tensors, file.metadata));
    assert.deepEqual(again, file, path);
  }
  // A fixture added later is listed here too.
  assert.deepEqual([...safetensorsFiles(fixturesDir())].sort(), FIXTURE_FILES.toSorted());
});

Deno.test({
  name: "safetensors: fixture names, dtypes and shapes match the fixtures README",
  fn: async () => {
    const expect = async (file: string, listing: Record<string, [string, number[]]>) => {
      const { tensors } = await loadSafetensors(fixture(file));
      for (const [name, [dtype, shape]] of Object.entries(listing)) {
        const t = tensors.get(name);
        assert.ok(t, `${file}: no tensor ${name}`);
        assert.deepEqual([t.dtype, t.shape], [dtype, shape], `${file} ${name}`);
      }
      return tensors;
    };
    await expect("resnet18/io.safetensors", {
      "input": ["f32", [2, 3, 40, 40]],
      "output": ["f32", [2, 7]],
      "grad.conv1.weight": ["f32", [8, 3, 7, 7]],
      "grad.layer3.0.downsample.0.weight": ["f32", [32, 16, 1, 1]],
    });
    const model = await expect("resnet18/model.safetensors", {
      "conv1.weight": ["f32", [8, 3, 7, 7]],
      "fc.weight": ["f32", [7, 64]],
      "bn1.num_batches_tracked": ["i32", []], // I64 in the file
    });
    assert.ok(model.get("bn1.running_var")!.data.every((v) => v > 0));
    await expect("mobilenet_v2/io.safetensors", {
      "input": ["f32", [2, 3, 64, 64]],
      "grad.classifier.1.weight": ["f32", [10, 1280]],
    });
    await expect("clip_rn/io.safetensors", {
      "image": ["f32", [2, 3, 64, 64]],
      "text": ["i32", [3, 77]],
      "logits_per_image": ["f32", [2, 3]],
    });
    await expect("clip_vit/io.safetensors", { "text": ["i32", [4, 77]] });

    for (const [i, [n, m, c, d, k]] of [[600, 8, 10, 24, 16], [1500, 30, 37, 16, 50]].entries()) {
      const file = `select/select_${i}.safetensors`;
      const { metadata } = await loadSafetensors(fixture(file));
      assert.deepEqual(
        [metadata.N, metadata.M, metadata.C, metadata.D, metadata.budget],
        [
          n,
          m,
          c,
          d,
          k,
        ].map(String),
      );
      const tensors = await expect(file, {
        "probs": ["f32", [n, c]],
        "labeled_features": ["f32", [m, d]],
        "expected.pcoreset": ["i32", [k]],
      });
      const picks = tensors.get("expected.pcoreset")!.data;
      assert.ok(picks.every((j) => j >= 0 && j < n), file);
      assert.equal(new Set(picks).size, k, `${file}: picks are distinct`);
    }
  },
});
