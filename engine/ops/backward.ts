/** `backward(loss)`: seeds d loss / d loss = 1 and runs reverse mode. */
import { backward as run } from "../autograd.ts";
import type { Tensor } from "../tensor.ts";
import { binaryRaw, ones } from "./elementwise.ts";

export function backward(loss: Tensor, grad?: Tensor): void {
  const seed = grad ?? ones(loss.shape);
  run(loss, seed, (a, b) => binaryRaw("add", a, b));
  if (!grad) seed.dispose();
}
