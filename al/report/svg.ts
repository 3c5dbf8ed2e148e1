/**
 * `curve.svg`: test accuracy against the number of labeled images, one line per strategy (mean
 * over seeds) with a shaded mean ± std band. Plain SVG, no script, readable in any browser.
 */
import { curve, strategiesOf } from "./summary.ts";
import type { RoundResult } from "./types.ts";

const WIDTH = 720;
const HEIGHT = 440;
const M = { left: 64, right: 170, top: 40, bottom: 56 };
/** Distinct, colour-blind friendly (Okabe–Ito). */
const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];

function esc(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const spans = (s: number) => Math.abs((hi - lo) / s - count);
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).reduce((a, b) => spans(b) < spans(a) ? b : a);
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

export function curveSvg(results: readonly RoundResult[], title: string): string {
  const strategies = strategiesOf(results);
  const curves = strategies.map((s) => curve(results, s));
  const points = curves.flat();
  const xs = points.map((p) => p.labeled);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let y0 = Math.min(...points.map((p) => p.mean - p.std));
  let y1 = Math.max(...points.map((p) => p.mean + p.std));
  const pad = Math.max(0.02, (y1 - y0) * 0.08);
  [y0, y1] = [Math.max(0, y0 - pad), Math.min(1, y1 + pad)];
  const pw = WIDTH - M.left - M.right;
  const ph = HEIGHT - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => M.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
    `viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${M.left}" y="24" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of niceTicks(y0 * 100, y1 * 100)) {
    const y = sy(t / 100);
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${f(y)}" y2="${f(y)}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${f(y + 4)}" text-anchor="end">${t}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1).filter((t) => Number.isInteger(t))) {
    const x = sx(t);
    out.push(
      `<line x1="${f(x)}" x2="${f(x)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#333"/>`,
      `<text x="${f(x)}" y="${M.top + ph + 18}" text-anchor="middle">${t}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${HEIGHT - 14}" text-anchor="middle">labeled images</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">` +
      `test accuracy (%)</text>`,
  );
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length];
    if (c.some((p) => p.std > 0)) {
      const upper = c.map((p) => `${f(sx(p.labeled))},${f(sy(Math.min(1, p.mean + p.std)))}`);
      const lower = c.map((p) => `${f(sx(p.labeled))},${f(sy(Math.max(0, p.mean - p.std)))}`);
      out.push(
        `<polygon points="${[...upper, ...lower.reverse()].join(" ")}" fill="${color}" ` +
          `fill-opacity="0.18" stroke="none"/>`,
      );
    }
    const line = c.map((p) => `${f(sx(p.labeled))},${f(sy(p.mean))}`).join(" ");
    out.push(`<polyline points="${line}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of c) {
      out.push(`<circle cx="${f(sx(p.labeled))}" cy="${f(sy(p.mean))}" r="3" fill="${color}"/>`);
    }
    const ly = M.top + 14 + 20 * i;
    const lx = M.left + pw + 16;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" ` +
        `stroke-width="2"/>`,
      `<text x="${lx + 28}" y="${ly}">${esc(strategies[i])}</text>`,
    );
  });
  const seeds = new Set(results.map((r) => r.seed)).size;
  out.push(
    `<text x="${M.left + pw + 16}" y="${M.top + 14 + 20 * strategies.length + 8}" ` +
      `fill="#555">${seeds === 1 ? "1 seed: no band" : `band: ± std, ${seeds} seeds`}</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}
