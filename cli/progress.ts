/**
 * Progress on stderr: on a terminal, one redrawn bar per phase with its rate and ETA; otherwise
 * (a pipe, a log file, CI) plain lines, at most one every `interval` seconds plus a final one.
 */
import type { PhaseProgress, Progress } from "../al/progress.ts";

export interface TerminalProgressOptions {
  /** Where lines go (default: stderr). */
  write?: (text: string) => void;
  /** Draw a bar (default: stderr is a terminal). */
  tty?: boolean;
  /** Seconds between plain lines (default 10). */
  interval?: number;
  /** Milliseconds clock (tests inject one). */
  now?: () => number;
  /** Bar width in characters. */
  width?: number;
}

/** `75` → "1:15"; `3725` → "1:02:05". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

function formatRate(perSecond: number, unit: string): string {
  if (!(perSecond > 0)) return `- ${unit}/s`;
  if (perSecond >= 1) return `${perSecond.toFixed(perSecond >= 100 ? 0 : 1)} ${unit}/s`;
  return `${(1 / perSecond).toFixed(1)} s/${unit}`;
}

export class TerminalProgress implements Progress {
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #width: number;

  constructor(opts: TerminalProgressOptions = {}) {
    const encoder = new TextEncoder();
    this.#write = opts.write ?? ((t) => Deno.stderr.writeSync(encoder.encode(t)));
    this.#tty = opts.tty ?? Deno.stderr.isTerminal();
    this.#interval = (opts.interval ?? 10) * 1000;
    this.#now = opts.now ?? (() => performance.now());
    this.#width = opts.width ?? 24;
  }

  log(message: string): void {
    this.#write(`${message}\n`);
  }

  phase(label: string, total: number, unit: string): PhaseProgress {
    const start = this.#now();
    let done = 0;
    let lastDraw = -Infinity;
    let ended = false;
    const status = () => {
      const elapsed = (this.#now() - start) / 1000;
      const rate = elapsed > 0 ? done / elapsed : 0;
      const eta = rate > 0 ? (total - done) / rate : Infinity;
      return { elapsed, rate, eta };
    };
    const draw = (force: boolean) => {
      const t = this.#now();
      if (!force && t - lastDraw < (this.#tty ? 100 : this.#interval)) return;
      lastDraw = t;
      const { rate, eta } = status();
      const counts = `${done}/${total} ${formatRate(rate, unit)} ETA ${formatDuration(eta)}`;
      if (this.#tty) {
        const filled = total > 0 ? Math.round((this.#width * Math.min(done, total)) / total) : 0;
        const bar = "█".repeat(filled) + "░".repeat(this.#width - filled);
        this.#write(`\r\x1b[2K${label} ${bar} ${counts}`);
      } else {
        this.#write(`${label}: ${counts}\n`);
      }
    };
    return {
      tick: (n = 1) => {
        done += n;
        if (done < total) draw(false);
      },
      end: () => {
        if (ended) return;
        ended = true;
        const { elapsed, rate } = status();
        const line = `${label}: ${done}/${total} in ${formatDuration(elapsed)} ` +
          `(${formatRate(rate, unit)})`;
        this.#write(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
      },
    };
  }
}
