/**
 * What a kernel is: a WGSL file that is valid on its own, plus the names of its bindings in
 * group 0 in binding order. Shapes arrive in one uniform struct (packed by member name from the
 * reflected layout), tile sizes as `override` constants. The engine reflects the source with
 * wgsl_reflect and refuses a spec whose binding names disagree with the shader.
 */
export interface KernelSpec {
  /** Pipeline-cache and error-message name, e.g. "gemm". */
  readonly name: string;
  readonly source: string;
  readonly entryPoint?: string;
  /** Binding names of group 0, in binding order (the uniform struct included). */
  readonly bindings: readonly string[];
}

/** Reads a `.wgsl` file that sits next to the module calling it. */
export function wgsl(relative: string, base: string): string {
  return Deno.readTextFileSync(new URL(relative, base));
}
