import assert from "node:assert/strict";
import { join } from "node:path";
import { COOP_DATASETS, coopName, IMAGENET_TEMPLATES, openCoop } from "../../../al/data/coop.ts";
import { FileImageSet } from "../../../al/data/files.ts";
import { promptTemplates } from "../../../al/data/image.ts";
import { verifyDataset } from "../../../al/data/verify.ts";
import { InputError } from "../../../engine/errors.ts";
import { JPEG, PNG, TRUNCATED_JPEG, withTempDir, writeTree } from "./trees.ts";

const euroSplit = {
  train: [
    ["AnnualCrop/AnnualCrop_1.jpg", 0, "Annual Crop Land"],
    ["SeaLake/SeaLake_1.jpg", 1, "SeaLake"], // an original name: renamed as CoOp does
    ["AnnualCrop/AnnualCrop_2.jpg", 0, "Annual Crop Land"],
  ],
  val: [["SeaLake/SeaLake_2.jpg", 1, "Sea or Lake"]],
  test: [["AnnualCrop/AnnualCrop_3.png", 0, "Annual Crop Land"]],
};

async function euroSat(root: string, extra: Record<string, Uint8Array | string> = {}) {
  await writeTree(root, {
    "eurosat/split_zhou_EuroSAT.json": JSON.stringify(euroSplit),
    "eurosat/2750/AnnualCrop/AnnualCrop_1.jpg": JPEG,
    "eurosat/2750/AnnualCrop/AnnualCrop_2.jpg": JPEG,
    "eurosat/2750/AnnualCrop/AnnualCrop_3.png": PNG,
    "eurosat/2750/SeaLake/SeaLake_1.jpg": JPEG,
    "eurosat/2750/SeaLake/SeaLake_2.jpg": JPEG,
    ...extra,
  });
}

Deno.test("coop:EuroSAT: CoOp folders, split JSON, renamed classes, template", async () => {
  await withTempDir(async (root) => {
    await euroSat(root);
    for (const name of ["EuroSAT", "eurosat"]) {
      const ds = await openCoop(name, root);
      assert.equal(ds.name, "EuroSAT");
      assert.deepEqual(ds.classes, ["Annual Crop Land", "Sea or Lake"]);
      assert.equal(ds.template, "a centered satellite photo of {}.");
      const train = ds.splits.train as FileImageSet;
      assert.deepEqual(train.paths, [
        join(root, "eurosat", "2750", "AnnualCrop", "AnnualCrop_1.jpg"),
        join(root, "eurosat", "2750", "SeaLake", "SeaLake_1.jpg"),
        join(root, "eurosat", "2750", "AnnualCrop", "AnnualCrop_2.jpg"),
      ]);
      assert.deepEqual(Array.from(train.labels), [0, 1, 0]);
      assert.deepEqual([ds.splits.val.length, ds.splits.test.length], [1, 1]);
      const { skipped } = await verifyDataset(ds);
      assert.equal(skipped, 0);
    }
    // ROOT may also be the dataset folder itself.
    const direct = await openCoop("EuroSAT", join(root, "eurosat"));
    assert.equal(direct.splits.train.length, 3);
  });
});

Deno.test("coop: a truncated JPEG and a non-image file fail verification naming the file", async () => {
  await withTempDir(async (root) => {
    await euroSat(root, {
      "eurosat/2750/AnnualCrop/AnnualCrop_2.jpg": TRUNCATED_JPEG,
      "eurosat/2750/SeaLake/SeaLake_2.jpg": "<html>not an image</html>",
    });
    const ds = await openCoop("EuroSAT", root);
    const cut = join(root, "eurosat", "2750", "AnnualCrop", "AnnualCrop_2.jpg");
    await assert.rejects(
      verifyDataset(ds),
      (e) => e instanceof InputError && e.message.startsWith(`${cut}: corrupt JPEG`),
    );
    const warnings: string[] = [];
    const { dataset, skipped } = await verifyDataset(ds, {
      skipBad: true,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(skipped, 2);
    assert.match(warnings[1], /SeaLake_2\.jpg: not a JPEG or PNG image/);
    assert.deepEqual([dataset.splits.train.length, dataset.splits.val.length], [2, 0]);
  });
});

Deno.test("coop: bad split JSON, missing dataset, unknown name are InputErrors", async () => {
  await withTempDir(async (root) => {
    await assert.rejects(
      openCoop("NoSuchSet", root),
      (e) => e instanceof InputError && /unknown dataset "NoSuchSet"/.test(e.message),
    );
    await assert.rejects(openCoop("DTD", root), (e) =>
      e instanceof InputError &&
      e.message.includes(join(root, "dtd", "split_zhou_DescribableTextures.json")));
    const file = join(root, "dtd", "split_zhou_DescribableTextures.json");
    await writeTree(root, { "dtd/split_zhou_DescribableTextures.json": "{ not json" });
    await assert.rejects(
      openCoop("DTD", root),
      (e) => e instanceof InputError && e.message.startsWith(`${file}: cannot read split JSON`),
    );
    const entry = { train: [["banded/a.jpg", "0", "banded"]], val: [], test: [] };
    await writeTree(root, { "dtd/split_zhou_DescribableTextures.json": JSON.stringify(entry) });
    await assert.rejects(
      openCoop("DTD", root),
      (e) =>
        e instanceof InputError &&
        e.message === `${file}: train[0] is not [path, label, class name]`,
    );
    const gap = { train: [["a/1.jpg", 0, "a"], ["c/1.jpg", 2, "c"]], val: [], test: [] };
    await writeTree(root, { "dtd/split_zhou_DescribableTextures.json": JSON.stringify(gap) });
    await assert.rejects(
      openCoop("DTD", root),
      (e) => e instanceof InputError && /labels are not 0\.\.1/.test(e.message),
    );
  });
});

Deno.test("coop: templates and folders of the ten benchmarks; `_` becomes a space", async () => {
  await withTempDir(async (root) => {
    const split = {
      train: [["apple_pie/1.jpg", 0, "apple_pie"], ["beef_tartare/1.jpg", 1, "beef_tartare"]],
      val: [],
      test: [],
    };
    await writeTree(root, { "food-101/split_zhou_Food101.json": JSON.stringify(split) });
    const ds = await openCoop("Food101", root);
    assert.deepEqual(ds.classes, ["apple pie", "beef tartare"]);
    assert.equal(ds.template, "a photo of {}, a type of food.");
    assert.equal(
      (ds.splits.train as FileImageSet).paths[0],
      join(root, "food-101", "images", "apple_pie", "1.jpg"),
    );
  });
  const expected: Record<string, string> = {
    Caltech101: "a photo of a {}.",
    DescribableTextures: "{} texture.",
    OxfordFlowers: "a photo of a {}, a type of flower.",
    OxfordPets: "a photo of a {}, a type of pet.",
    StanfordCars: "a photo of a {}.",
    SUN397: "a photo of a {}.",
    UCF101: "a photo of a person doing {}.",
    "fgvc-aircraft": "a photo of a {}, a type of aircraft.",
  };
  for (const [name, template] of Object.entries(expected)) {
    assert.equal(COOP_DATASETS[coopName(name)!].template, template, name);
  }
  assert.equal(coopName("Flowers102"), "Flowers102");
  assert.equal(coopName("describable_textures"), "DTD");
});

Deno.test("coop:FGVCAircraft reads CoOp's variant text files", async () => {
  await withTempDir(async (root) => {
    await writeTree(root, {
      "fgvc_aircraft/variants.txt": "707-320\nA300B4\nDC-10\n",
      "fgvc_aircraft/images_variant_train.txt": "0001 A300B4\n0002 707-320\n",
      "fgvc_aircraft/images_variant_val.txt": "0003 DC-10\n",
      "fgvc_aircraft/images_variant_test.txt": "0004 A300B4\n",
      "fgvc_aircraft/images/0001.jpg": JPEG,
    });
    const ds = await openCoop("FGVCAircraft", root);
    assert.deepEqual(ds.classes, ["707-320", "A300B4", "DC-10"]);
    assert.equal(ds.template, "a photo of a {}, a type of aircraft.");
    assert.deepEqual(Array.from(ds.splits.train.labels), [1, 0]);
    assert.equal(ds.splits.train.source(0), join(root, "fgvc_aircraft", "images", "0001.jpg"));
    assert.equal((await ds.splits.train.get(0)).width, 16);
    await writeTree(root, { "fgvc_aircraft/images_variant_test.txt": "0004 Concorde\n" });
    await assert.rejects(
      openCoop("FGVCAircraft", root),
      (e) =>
        e instanceof InputError &&
        /images_variant_test\.txt: line 1 names no variant/.test(e.message),
    );
  });
});

Deno.test("coop:ImageNet: wnid folders, classnames.txt, val is the test set, 7 templates", async () => {
  await withTempDir(async (root) => {
    await writeTree(root, {
      "imagenet/classnames.txt": "n01440764 tench\nn01443537 goldfish\n",
      "imagenet/images/train/n01443537/b.jpg": JPEG,
      "imagenet/images/train/n01440764/a.jpg": JPEG,
      "imagenet/images/train/n01440764/c.png": PNG,
      "imagenet/images/val/n01443537/v.jpg": JPEG,
    });
    const ds = await openCoop("ImageNet", root);
    assert.deepEqual(ds.classes, ["tench", "goldfish"]);
    assert.deepEqual(Array.from(ds.splits.train.labels), [0, 0, 1]);
    assert.equal(ds.splits.val, ds.splits.test);
    assert.deepEqual(Array.from(ds.splits.test.labels), [1]);
    assert.equal(ds.template, undefined);
    assert.deepEqual(promptTemplates(ds), IMAGENET_TEMPLATES);
    assert.equal(IMAGENET_TEMPLATES.length, 7);
  });
});
