import assert from "node:assert/strict";
import { program } from "../../cli/main.ts";
import { AUTO_RULE } from "../../engine/device.ts";
import { akd } from "./run_cli.ts";

Deno.test("akd: an unknown command is exit 2 naming it, even with --help or after help", async () => {
  const cases: [string[], string, string][] = [
    [["frobnicate", "--help"], "frobnicate", ""],
    [["plann", "--help"], "plann", "\n(Did you mean plan?)"],
    [["selct", "--help"], "selct", "\n(Did you mean select?)"],
    [["help", "selct"], "selct", "\n(Did you mean select?)"],
    [["tokenise", "--vocab", "v", "x"], "tokenise", "\n(Did you mean tokenize?)"],
  ];
  for (const [args, name, suggestion] of cases) {
    const r = await akd(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "", "no help on stdout");
    assert.ok(
      r.stderr.startsWith(`error: unknown command '${name}'${suggestion}\n`),
      `${args.join(" ")}: ${r.stderr}`,
    );
  }
  // A known command's help is still help.
  const help = await akd(["select", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: akd select /);
});

Deno.test("--backend help of every command states the auto rule the engine applies", async () => {
  const withBackend = (await program()).commands.filter((c) =>
    c.options.some((o) => o.long === "--backend")
  );
  assert.ok(withBackend.length >= 5, withBackend.map((c) => c.name()).join(" "));
  for (const c of withBackend) {
    const help = c.options.find((o) => o.long === "--backend")!.description;
    assert.ok(help.includes(`auto (${AUTO_RULE})`), `${c.name()}: ${help}`);
  }
  assert.equal(AUTO_RULE, "Dawn, then built-in");
});
