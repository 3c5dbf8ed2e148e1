import assert from "node:assert/strict";
import { formatDuration, TerminalProgress } from "../../cli/progress.ts";

function recorder(tty: boolean) {
  const out: string[] = [];
  let clock = 0;
  const progress = new TerminalProgress({
    tty,
    write: (t) => out.push(t),
    now: () => clock,
    interval: 10,
    width: 10,
  });
  return { out, progress, advance: (ms: number) => (clock += ms) };
}

Deno.test("progress: durations", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(75), "1:15");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(Infinity), "?");
});

Deno.test("progress: plain lines when not a terminal, throttled, with rate and ETA", () => {
  const { out, progress, advance } = recorder(false);
  const p = progress.phase("train r1", 100, "step");
  advance(5000);
  p.tick(10); // first draw: always shown
  advance(5000);
  p.tick(10); // 5 s later: throttled
  advance(5000);
  p.tick(10); // 10 s after the first line
  advance(15000);
  p.tick(70);
  p.end();
  p.end(); // idempotent
  assert.deepEqual(out, [
    "train r1: 10/100 2.0 step/s ETA 0:45\n",
    "train r1: 30/100 2.0 step/s ETA 0:35\n",
    "train r1: 100/100 in 0:30 (3.3 step/s)\n",
  ]);
});

Deno.test("progress: a redrawn bar on a terminal, slow rates as seconds per unit", () => {
  const { out, progress, advance } = recorder(true);
  const p = progress.phase("teacher", 4, "batch");
  advance(4000);
  p.tick();
  assert.equal(out[0], "\r\x1b[2Kteacher ███░░░░░░░ 1/4 4.0 s/batch ETA 0:12");
  advance(50);
  p.tick(); // within 100 ms: not redrawn
  assert.equal(out.length, 1);
  advance(4000);
  p.tick(2);
  p.end();
  assert.equal(out.at(-1), "\r\x1b[2Kteacher: 4/4 in 0:08 (2.0 s/batch)\n");
  progress.log("round 1 done");
  assert.equal(out.at(-1), "round 1 done\n");
});
