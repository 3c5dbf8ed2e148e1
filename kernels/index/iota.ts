/** arange and one_hot: specs. */
import { type KernelSpec, wgsl } from "../spec.ts";

const source = wgsl("./iota.wgsl", import.meta.url);
const bindings = ["labels", "out", "params"];

export const arangeSpec: KernelSpec = { name: "arange", source, entryPoint: "arange", bindings };
export const oneHotSpec: KernelSpec = { name: "one_hot", source, entryPoint: "one_hot", bindings };
