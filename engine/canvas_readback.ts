/**
 * Small readbacks on Deno's built-in WebGPU through an OffscreenCanvas "webgpu" context.
 *
 * Deno 2.9's `mapAsync` and `onSubmittedWorkDone` block until the GPU is done, then sleep 10 ms
 * before their promise settles (ext/webgpu, buffer.rs and queue.rs): every readback cost at least
 * 10 ms, whatever the work. An OffscreenCanvas's `convertToBlob` copies its texture back with a
 * blocking wait and no sleep. So a small read copies the bytes into the canvas's `rgba8unorm`
 * texture (copies move texel bytes verbatim) and takes them out of the uncompressed BMP the canvas
 * encodes: about 0.4 ms for 4 bytes on llvmpipe, against about 11 ms (docs/architecture.md,
 * "Readback").
 */

/**
 * Reads up to this many bytes through a canvas; larger ones map a staging buffer. Measured on
 * llvmpipe (best of 8): 64 KiB 1.0 ms against 10.9 ms mapped, 1 MiB 6.6 against 12.7, 2 MiB
 * 8.4 against 11.2 (the encode's copies catch up with the sleep).
 */
export const CANVAS_READ_MAX = 1024 * 1024;

const WIDTH = 64; // texels per canvas row: 256 bytes, the copy row alignment
const ROW_BYTES = WIDTH * 4;

/** Whether `device` can be read through an OffscreenCanvas: Deno's own devices only. */
export function canvasReadbackAvailable(device: GPUDevice): boolean {
  return typeof OffscreenCanvas === "function" && typeof GPUDevice === "function" &&
    device instanceof GPUDevice;
}

export class CanvasReadback {
  /** One canvas per power-of-two row count, made on first use. */
  #canvases = new Map<number, { canvas: OffscreenCanvas; context: GPUCanvasContext }>();

  constructor(private device: GPUDevice) {}

  #canvas(rows: number): { canvas: OffscreenCanvas; context: GPUCanvasContext } {
    const height = 2 ** Math.ceil(Math.log2(rows));
    let c = this.#canvases.get(height);
    if (!c) {
      const canvas = new OffscreenCanvas(WIDTH, height);
      const context = canvas.getContext("webgpu") as GPUCanvasContext | null;
      if (!context) throw new Error("CanvasReadback: OffscreenCanvas has no webgpu context");
      context.configure({
        device: this.device,
        format: "rgba8unorm",
        usage: GPUTextureUsage.COPY_DST,
      });
      c = { canvas, context };
      this.#canvases.set(height, c);
    }
    return c;
  }

  /**
   * Records the copy of `bytes` (a multiple of 4) at `offset` of `src` into a canvas; the
   * returned function, called once the encoder is submitted, gives the bytes.
   */
  record(
    encoder: GPUCommandEncoder,
    src: GPUBuffer,
    offset: number,
    bytes: number,
  ): () => Promise<ArrayBuffer> {
    if (bytes % 4 !== 0 || bytes <= 0 || bytes > CANVAS_READ_MAX) {
      throw new Error(`CanvasReadback: cannot read ${bytes} bytes`);
    }
    const words = bytes / 4;
    const full = Math.floor(words / WIDTH);
    const rest = words % WIDTH;
    const { canvas, context } = this.#canvas(full + (rest > 0 ? 1 : 0));
    const texture = context.getCurrentTexture();
    if (full > 0) {
      encoder.copyBufferToTexture({ buffer: src, offset, bytesPerRow: ROW_BYTES }, { texture }, [
        WIDTH,
        full,
      ]);
    }
    if (rest > 0) {
      encoder.copyBufferToTexture(
        { buffer: src, offset: offset + full * ROW_BYTES },
        { texture, origin: [0, full] },
        [rest, 1],
      );
    }
    // convertToBlob runs (and waits for the queue) before this function's first await, so a
    // later read's copy into the same canvas cannot overtake it.
    return async () => bmpBytes(await canvas.convertToBlob({ type: "image/bmp" }), bytes);
  }

  /** Releases the canvases' textures. */
  destroy(): void {
    for (const { context } of this.#canvases.values()) context.unconfigure();
    this.#canvases.clear();
  }
}

/**
 * The first `bytes` of the texels of a 32-bit BMP as the texture held them (R, G, B, A per texel,
 * rows top to bottom). Any other layout than the one Deno's encoder writes is an error, never a
 * silent misread.
 */
async function bmpBytes(blob: Blob, bytes: number): Promise<ArrayBuffer> {
  const file = new DataView(await blob.arrayBuffer());
  const at = (o: number) => file.getUint32(o, true);
  const width = file.getInt32(18, true);
  const height = file.getInt32(22, true);
  const bitfields = file.getUint32(30, true) === 3 && at(54) === 0x00ff0000 &&
    at(58) === 0x0000ff00 && at(62) === 0x000000ff && at(66) === 0xff000000;
  if (
    file.getUint16(0) !== 0x424d || width !== WIDTH || file.getUint16(28, true) !== 32 || !bitfields
  ) {
    throw new Error("CanvasReadback: OffscreenCanvas.convertToBlob wrote an unexpected BMP layout");
  }
  const rows = Math.abs(height);
  const start = at(10);
  const texels = new Uint32Array(file.buffer.slice(start, start + rows * ROW_BYTES));
  const out = new Uint32Array(Math.ceil(bytes / ROW_BYTES) * WIDTH);
  for (let y = 0; y * WIDTH < out.length; y++) {
    const from = (height > 0 ? rows - 1 - y : y) * WIDTH; // positive height: bottom-up rows
    for (let x = 0; x < WIDTH; x++) {
      // Little-endian B, G, R, A bytes back to R, G, B, A: swap the first and third.
      const v = texels[from + x];
      out[y * WIDTH + x] = (v & 0xff00ff00) | ((v >>> 16) & 0xff) | ((v & 0xff) << 16);
    }
  }
  return out.buffer.slice(0, bytes);
}
