/**
 * Tests that read Debian's `dataset-fashion-mnist` package (.ci/setup installs it): where the
 * package is absent they are registered as ignored, saying so, never run and reported as passed.
 */
import { DEBIAN_FASHION_MNIST } from "../al/data/fashion_mnist.ts";

async function installed(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const present = await installed(DEBIAN_FASHION_MNIST);

/** `Deno.test(def)`, ignored with the reason in its name when the package is absent. */
export function fashionMnistTest(def: Deno.TestDefinition): void {
  Deno.test(
    present ? def : {
      ...def,
      name: `${def.name} (ignored: dataset-fashion-mnist not installed, ${DEBIAN_FASHION_MNIST})`,
      ignore: true,
    },
  );
}
