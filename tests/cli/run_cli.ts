/** Runs `akd` as a child process, as users and other tools call it. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function akd(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const main = new URL("../../cli/main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
