/**
 * `bench conv`: convolution forward (channels-last implicit GEMM, depthwise kernel) on the
 * layer shapes of resnet18 and mobilenet_v2 at 32×32 (batch 64) and 224×224 (batch 8) inputs, in
 * GFLOP/s beside PyTorch CPU (2 threads, `F.conv2d` on NCHW) and the WebGPU peers that have the
 * op (bench/peers.ts) on the same shapes, timed round robin in the same run (best of >= 5).
 */
import { engine } from "../engine/context.ts";
import { keep, scope, tensor } from "../engine/tensor.ts";
import { conv2dNhwc } from "../engine/ops/conv.ts";
import { noGrad } from "../engine/autograd.ts";
import {
  type BenchOptions,
  type BenchRecord,
  compare,
  record,
  repetitions,
  timingNotes,
  TorchWorker,
} from "./harness.ts";
import { openPeers } from "./peers.ts";

interface ConvCase {
  model: string;
  layer: string;
  batch: number;
  /** Input side, in channels, out channels, kernel, stride, groups. */
  side: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  groups: number;
}

/** Distinct layer shapes of both networks for an input of side `input` (batch `batch`). */
function cases(input: number, batch: number): ConvCase[] {
  const s = (n: number) => Math.ceil(input / n);
  const r = (layer: string, side: number, cin: number, cout: number, k: number, stride = 1) => ({
    model: "resnet18",
    layer,
    batch,
    side,
    cin,
    cout,
    k,
    stride,
    groups: 1,
  });
  const m = (
    layer: string,
    side: number,
    cin: number,
    cout: number,
    k: number,
    stride = 1,
    groups = 1,
  ) => ({ model: "mobilenet_v2", layer, batch, side, cin, cout, k, stride, groups });
  return [
    r("conv1 7x7/2", input, 3, 64, 7, 2),
    r("layer1 3x3", s(4), 64, 64, 3),
    r("layer2.0.conv1 3x3/2", s(4), 64, 128, 3, 2),
    r("layer2 3x3", s(8), 128, 128, 3),
    r("layer2.0.downsample 1x1/2", s(4), 64, 128, 1, 2),
    r("layer3 3x3", s(16), 256, 256, 3),
    r("layer4 3x3", s(32), 512, 512, 3),
    m("features.0 3x3/2", input, 3, 32, 3, 2),
    m("features.2 expand 1x1", s(2), 16, 96, 1),
    m("features.2 depthwise 3x3/2", s(2), 96, 96, 3, 2, 96),
    m("features.3 depthwise 3x3", s(4), 144, 144, 3, 1, 144),
    m("features.3 project 1x1", s(4), 144, 24, 1),
    m("features.14 expand 1x1", s(16), 96, 576, 1),
    m("features.18 1x1", s(32), 320, 1280, 1),
  ];
}

const outSide = (c: ConvCase) => Math.floor((c.side + 2 * ((c.k - 1) >> 1) - c.k) / c.stride) + 1;

function flops(c: ConvCase): number {
  return 2 * c.batch * outSide(c) ** 2 * c.cout * (c.cin / c.groups) * c.k * c.k;
}

/** Input and weights read once, the output written once: the least traffic. */
function bytes(c: ConvCase): number {
  const input = c.batch * c.side * c.side * c.cin;
  const weight = c.cout * (c.cin / c.groups) * c.k * c.k;
  return 4 * (input + weight + c.batch * outSide(c) ** 2 * c.cout);
}

function data(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin((i + seed) * 0.37);
  return out;
}

/** One timed unit: the convolution, its output on the host. */
const TORCH = `
F = torch.nn.functional
c = INPUT
x = torch.randn(c["batch"], c["cin"], c["side"], c["side"])
w = torch.randn(c["cout"], c["cin"] // c["groups"], c["k"], c["k"])
def step():
    with torch.no_grad():
        F.conv2d(x, w, stride=c["stride"], padding=(c["k"] - 1) // 2, groups=c["groups"])
STEPS["conv"] = step
`;

export async function benchConv(opts: BenchOptions): Promise<BenchRecord[]> {
  const all = opts.quick ? cases(32, 16) : [...cases(32, 64), ...cases(224, 8)];
  const warmup = 1, iters = repetitions(opts);
  await using torch = await TorchWorker.start();
  if (!torch) throw new Error("bench conv needs PyTorch (/usr/bin/python3)");
  const { peers, skipped } = await openPeers(engine().gpu);
  const records: BenchRecord[] = [];
  for (const c of all) {
    const xData = data(c.batch * c.side * c.side * c.cin, 1);
    const wData = data(c.cout * (c.cin / c.groups) * c.k * c.k, 2);
    const x = keep(tensor(xData, [c.batch, c.side, c.side, c.cin]));
    const w = keep(tensor(wData, [c.cout, c.cin / c.groups, c.k, c.k]));
    const shape = { ...c, padding: (c.k - 1) >> 1 };
    const peerCases = peers.flatMap((peer) => {
      const run = peer.conv(xData, wData, shape);
      return run ? [{ peer, run }] : [];
    });
    let timings;
    try {
      await torch.exec(TORCH, c);
      timings = await compare([
        {
          name: "ours",
          run: async () => {
            const y = scope(() =>
              noGrad(() =>
                conv2dNhwc(x, w, { stride: c.stride, padding: shape.padding, groups: c.groups })
              )
            );
            try {
              await y.read();
            } finally {
              y.dispose();
            }
          },
        },
        torch.contender("torch-cpu", "conv"),
        ...peerCases.map(({ peer, run }) => ({
          name: peer.name,
          run: async () => void await run.run(1),
        })),
      ], { warmup, iters });
    } finally {
      x.dispose();
      w.dispose();
      peerCases.forEach((p) => p.run.dispose());
    }
    const f = flops(c);
    const ours = timings.get("ours")!;
    const mine = { seconds: ours.best, throughput: f / ours.best / 1e9, unit: "GFLOP/s" };
    const against = (name: string, notes: Record<string, unknown> = {}) => {
      const t = timings.get(name)!;
      return record(
        "conv",
        `${c.model} ${c.layer} batch ${c.batch} ${c.cin}x${c.side}x${c.side}->${c.cout}`,
        mine,
        { name, seconds: t.best, throughput: f / t.best / 1e9 },
        { ...timingNotes(ours, t), ...notes },
        { flops: f, bytes: bytes(c) },
      );
    };
    records.push(against("torch-cpu"));
    for (const { peer } of peerCases) {
      records.push(against(peer.name, { peerAdapter: peer.adapter }));
    }
    const absent = peers.filter((p) => !peerCases.some((q) => q.peer === p)).map((p) => p.name);
    if (absent.length || skipped.length) {
      records.at(-1)!.notes!.peersSkipped = [
        ...skipped,
        ...absent.map((name) => ({ name, why: `no convolution with groups ${c.groups}` })),
      ];
    }
  }
  return records;
}
