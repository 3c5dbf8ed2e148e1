/**
 * Errors that reach the user. `InputError` is bad input (a bad flag, file or config): the CLI
 * prints its one-line message and exits with code 2. Everything else is a runtime failure (1).
 */
export class InputError extends Error {
  override name = "InputError";
}

/** A GPU-side failure (validation, out-of-memory, device loss), naming the op that caused it. */
export class GpuError extends Error {
  override name = "GpuError";
}

/**
 * Work that cannot fit one of the adapter's limits, or a kernel's own size limit, at the sizes
 * asked (e.g. a training batch whose activation exceeds the largest storage binding): raised
 * before anything is recorded, so `akd plan` reports it as the phase's limit instead of failing.
 */
export class LimitError extends Error {
  override name = "LimitError";
}
