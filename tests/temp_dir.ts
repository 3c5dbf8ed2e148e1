/** Runs `fn` in a new temporary folder, removed afterwards whatever `fn` did. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix?: string,
): Promise<void> {
  const dir = await Deno.makeTempDir(prefix ? { prefix } : {});
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
