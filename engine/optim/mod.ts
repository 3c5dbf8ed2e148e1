/** Optimisers (one fused kernel each over all parameters) and learning-rate schedules. */
export { Optimizer, type OptimizerState } from "./optimizer.ts";
export { AdamW, type AdamWOptions } from "./adamw.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
export { cosine, warmupLinear } from "./schedule.ts";
