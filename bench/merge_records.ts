/**
 * `deno run --allow-read --allow-write bench/merge_records.ts OUTDIR NAME...`: joins the
 * benchmarks' outputs OUTDIR/bench-NAME.json (each a JSON array of records) into
 * OUTDIR/bench.json, in the order given, for bench/offline-gpu.sh; a benchmark without a
 * complete array (it failed or ran out of time) is named on stderr and left out.
 */
const [out, ...names] = Deno.args;
const all: unknown[] = [];
for (const name of names) {
  const file = `${out}/bench-${name}.json`;
  let records: unknown;
  try {
    records = JSON.parse(await Deno.readTextFile(file));
  } catch (e) {
    console.error(`${file}: no complete JSON array (${(e as Error).message})`);
    continue;
  }
  if (Array.isArray(records)) all.push(...records);
  else console.error(`${file}: not a JSON array`);
}
await Deno.writeTextFile(`${out}/bench.json`, JSON.stringify(all, null, 2) + "\n");
console.error(`${out}/bench.json: ${all.length} records`);
