// The model against the WAN namespace benchmark (bench/gossip-wan.bench.ts), gossip version 2:
//   node --import tsx src/sim/wan-compare.ts network-config/scenarios/calibration-wan.yaml [--seeds 3] [--out DIR]
// Runs the scenario in model mode per seed and per variant (links only; links plus the per-hop
// processing fitted in docs/sim/calibration-v2; each with lost writes dropped or retransmitted), computes the bench's
// metrics from the engine's trace (each witness's cosignature on each checkpoint is one
// publication, delivered to a node when it first arrives there, as bench/lib/network.ts
// deliveryOf), and writes DIR/calibration.md and DIR/calibration.json against the measured runs
// in DIR/measured.json (rows copied from bench/results/gossip-wan.md).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { parseScenario } from './scenario.js';
import { ModelEngine } from './model/engine.js';

/** The bench's window: publications after its 15 s warm-up and before the fork (the scenario's forkAt). */
const WINDOW_FROM_MS = 15_000;
/** Per-hop processing fitted against live nodes on this machine (calibration-v2.yaml: lognormal 40 ms median, 250 ms p99). */
const PROC_MEDIAN_MS = 40;
const PROC_P99_MS = 250;

export interface WanMetrics {
  readonly deliveryRatio: number;
  readonly reachAllP50Ms: number | null;
  readonly reachAllP99Ms: number | null;
  readonly perDeliveryP50Ms: number | null;
  readonly perDeliveryP99Ms: number | null;
  /** Sent plus received per node (the bench counts both at the relays): twice the model's bytes sent per node. */
  readonly mbPerNodePerHour: number;
  readonly evidenceFirstMs: number | null;
  readonly evidenceP50Ms: number | null;
  readonly evidenceLastMs: number | null;
  readonly evidenceNodes: number;
}

function pct(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The bench's metrics from one model run's trace (version 2 exchange lines). */
export function wanMetrics(trace: readonly string[], nodes: number, forkAtMs: number, detectedAt: Float64Array, honest: readonly number[], bytes: number, durationMs: number): WanMetrics {
  const pub = new Map<string, number>(); // `${item}:${w}` -> when w cosigned
  const writes = new Map<string, { from: number; to: number; items: string[] }>();
  const seen = new Map<string, Map<number, number>>(); // key -> node -> first arrival
  for (const l of trace) {
    let m = /^t=([\d.e+-]+) node (\d+) cosigns (\d+)$/.exec(l);
    if (m) {
      const k = `${m[3]}:${m[2]}`;
      if (!pub.has(k)) pub.set(k, Number(m[1]));
      continue;
    }
    m = /^t=([\d.e+-]+) ex (\d+)>(\d+) (?:tick|answer) #(\d+) ?(.*)$/.exec(l);
    if (m) {
      writes.set(m[4], { from: Number(m[2]), to: Number(m[3]), items: m[5].split(' ').filter((x) => /^\d+:\d+$/.test(x)) });
      continue;
    }
    m = /^t=([\d.e+-]+) ex-in #(\d+)$/.exec(l);
    if (m) {
      const w = writes.get(m[2]);
      if (!w) continue;
      const t = Number(m[1]);
      for (const k of w.items) {
        let s = seen.get(k);
        if (!s) seen.set(k, (s = new Map()));
        if (!s.has(w.to) || s.get(w.to)! > t) s.set(w.to, t);
      }
      writes.delete(m[2]);
    }
  }
  let pubs = 0;
  let delivered = 0;
  const reachAll: number[] = [];
  const perDelivery: number[] = [];
  for (const [k, t] of pub) {
    if (t < WINDOW_FROM_MS || t > forkAtMs) continue;
    pubs++;
    const w = Number(k.split(':')[1]);
    const got = [...(seen.get(k) ?? new Map<number, number>())].filter(([v]) => v !== w).map(([, at]) => at - t);
    delivered += got.length;
    perDelivery.push(...got);
    if (got.length >= nodes - 1) reachAll.push(Math.max(...got));
  }
  reachAll.sort((a, b) => a - b);
  perDelivery.sort((a, b) => a - b);
  const ev = honest.filter((v) => detectedAt[v] >= 0).map((v) => Math.max(0, detectedAt[v] - forkAtMs)).sort((a, b) => a - b);
  return {
    deliveryRatio: pubs === 0 ? 1 : delivered / (pubs * (nodes - 1)),
    reachAllP50Ms: pct(reachAll, 50),
    reachAllP99Ms: pct(reachAll, 99),
    perDeliveryP50Ms: pct(perDelivery, 50),
    perDeliveryP99Ms: pct(perDelivery, 99),
    mbPerNodePerHour: (2 * bytes) / nodes / (durationMs / 3_600_000) / 1e6,
    evidenceFirstMs: ev[0] ?? null,
    evidenceP50Ms: pct(ev, 50),
    evidenceLastMs: ev.length > 0 ? ev[ev.length - 1] : null,
    evidenceNodes: ev.length,
  };
}

interface Variant {
  readonly name: string;
  readonly what: string;
  readonly mutate: (raw: any) => void;
}

const RETRANSMIT = '200ms'; // Linux's minimum RTO: a lost segment is resent after it
const VARIANTS: readonly Variant[] = [
  { name: 'links', what: 'the configured link delays (fixed per pair of access-delay groups) and 1 % of exchange writes lost (dropped; HAVE/WANT repairs them)', mutate: () => {} },
  {
    name: 'links, retransmitted',
    what: `as links, but a lost write arrives ${RETRANSMIT} later and later writes on its link wait for it (network.retransmit: TCP resends a lost segment after the minimum RTO and delivers in order)`,
    mutate: (raw) => {
      raw.network.retransmit = RETRANSMIT;
    },
  },
  {
    name: 'links+processing',
    what: `each hop also pays the per-hop processing fitted on this machine (lognormal per pair, median d_i + d_j + ${PROC_MEDIAN_MS} ms, p99 d_i + d_j + ${PROC_P99_MS} ms), 1 % of writes lost (dropped)`,
    mutate: (raw) => addProcessing(raw),
  },
  {
    name: 'links+processing, retransmitted',
    what: `as links+processing, lost writes retransmitted after ${RETRANSMIT}`,
    mutate: (raw) => {
      addProcessing(raw);
      raw.network.retransmit = RETRANSMIT;
    },
  },
];

function addProcessing(raw: any): void {
  for (const [pair, l] of Object.entries<any>(raw.network.regions.latency)) {
    if (pair.startsWith('log-')) continue; // the logs push inside the bench process
    const d = Number(String(l.median).replace(/ms$/, ''));
    raw.network.regions.latency[pair] = { distribution: 'lognormal', median: `${d + PROC_MEDIAN_MS}ms`, p99: `${d + PROC_P99_MS}ms` };
  }
}

type Measured = { label: string; load: string; metrics: Partial<Record<keyof WanMetrics, number | null>> };

/** Tolerances as docs/sim/calibration: medians within max(50 %, 250 ms), tails within max(50 %, 500 ms), delivery within 0.05; bytes within a factor 1.5 (ours). */
function tolerance(metric: keyof WanMetrics, model: number, measured: number): { text: string; ok: boolean } {
  const d = Math.abs(model - measured);
  if (metric === 'deliveryRatio') return { text: '±0.05', ok: d <= 0.05 };
  if (metric === 'mbPerNodePerHour') return { text: '×/÷ 1.5', ok: model <= 1.5 * measured && model >= measured / 1.5 };
  if (metric === 'evidenceNodes') return { text: 'equal', ok: d === 0 };
  const tail = /P99|Last/.test(metric);
  const abs = tail ? 500 : 250;
  return { text: `±max(50 %, ${abs} ms)`, ok: d <= Math.max(0.5 * measured, abs) };
}

const LABELS: Record<keyof WanMetrics, string> = {
  deliveryRatio: 'delivery ratio (publication × other node)',
  reachAllP50Ms: 'time to reach ALL nodes p50 (ms)',
  reachAllP99Ms: 'time to reach ALL nodes p99 (ms)',
  perDeliveryP50Ms: 'per-delivery latency p50 (ms)',
  perDeliveryP99Ms: 'per-delivery latency p99 (ms)',
  mbPerNodePerHour: 'MB per node per hour, sent + received (model: 2 × sent)',
  evidenceFirstMs: 'fork -> evidence, first (ms)',
  evidenceP50Ms: 'fork -> evidence, p50 (ms)',
  evidenceLastMs: 'fork -> evidence, last node (ms)',
  evidenceNodes: 'nodes holding evidence',
};

const mean = (xs: readonly (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};
const fmt = (x: number | null | undefined, metric: keyof WanMetrics) => (x === null || x === undefined ? 'n/a' : metric === 'deliveryRatio' ? x.toFixed(4) : metric === 'mbPerNodePerHour' ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));

export async function main(argv: readonly string[]): Promise<void> {
  const file = argv[0];
  if (!file || file.startsWith('--')) throw new Error('usage: wan-compare.ts SCENARIO.yaml [--seeds N] [--out DIR]');
  let seeds = 3;
  let out = 'docs/sim/calibration-wan';
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--seeds') seeds = Number(argv[++i]);
    else if (argv[i] === '--out') {
      out = argv[++i];
      if (!out) throw new Error('--out: a directory is needed');
    }
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 20) throw new Error('--seeds: an integer in 1..20');
  const text = readFileSync(file, 'utf8');
  const measured = JSON.parse(readFileSync(join(out, 'measured.json'), 'utf8')) as Measured[];
  const started = new Date().toISOString();
  const load0 = loadavg()[0];
  const results: { variant: string; what: string; perSeed: WanMetrics[]; mean: Record<string, number | null> }[] = [];
  for (const v of VARIANTS) {
    const raw = parseYaml(text);
    v.mutate(raw);
    const s = parseScenario(raw, file);
    if (s.network.version !== 2) throw new Error(`${file}: network.version must be 2`);
    if (!s.adversary) throw new Error(`${file}: adversary.forkAt is needed (the window ends there)`);
    const forkAt = s.adversary.forkAtMs;
    const perSeed: WanMetrics[] = [];
    for (let k = 0; k < seeds; k++) {
      const eng = new ModelEngine(s, s.seed + k);
      eng.enableTrace();
      const o = await eng.run();
      perSeed.push(wanMetrics(eng.traceLines, s.network.nodes, o.forkAtMs ?? forkAt, o.detectedAt, o.honest, o.bytes, s.durationMs));
    }
    const m: Record<string, number | null> = {};
    for (const key of Object.keys(LABELS) as (keyof WanMetrics)[]) m[key] = mean(perSeed.map((x) => x[key]));
    results.push({ variant: v.name, what: v.what, perSeed, mean: m });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'calibration.json'), JSON.stringify({ scenario: file, seeds, started, loadAverage1m: load0, command: `node --import tsx src/sim/wan-compare.ts ${file} --seeds ${seeds} --out ${out}`, results, measured }, null, 1) + '\n');
  const lines: string[] = [];
  lines.push(`# Model vs the WAN namespace benchmark (gossip version 2)`, '');
  lines.push(`\`node --import tsx src/sim/wan-compare.ts ${file} --seeds ${seeds} --out ${out}\` (${started}; model runs take seconds, load average ${load0.toFixed(1)} does not affect them).`, '');
  lines.push('Model: mean over seeds ' + Array.from({ length: seeds }, (_, k) => String(k + 1)).join(', ') + '. Measured: bench/results/gossip-wan.md (version 2 column), load average (1 min) at window start / end as recorded there.', '');
  lines.push('Model variants:', '');
  for (const r of results) lines.push(`- **${r.variant}**: ${r.what}.`);
  lines.push('');
  for (const meas of measured) {
    lines.push(`## Against ${meas.label} (load ${meas.load})`, '');
    lines.push(`| metric | ${results.map((r) => `model: ${r.variant}`).join(' | ')} | measured | ratio (${results.map((r) => r.variant).join(' / ')}) | tolerance | within (${results.map((r) => r.variant).join(' / ')}) |`);
    lines.push(`|---|${results.map(() => '---:').join('|')}|---:|---:|---|---|`);
    for (const key of Object.keys(LABELS) as (keyof WanMetrics)[]) {
      const x = meas.metrics[key];
      if (x === undefined) continue;
      const ratios = results.map((r) => (x === null || r.mean[key] === null || x === 0 ? 'n/a' : (r.mean[key]! / x).toFixed(2)));
      const tol = results.map((r) => (x === null || r.mean[key] === null ? null : tolerance(key, r.mean[key]!, x)));
      const tolText = tol.find((t) => t)?.text ?? '';
      lines.push(`| ${LABELS[key]} | ${results.map((r) => fmt(r.mean[key], key)).join(' | ')} | ${fmt(x, key)} | ${ratios.join(' / ')} | ${tolText} | ${tol.map((t) => (t ? (t.ok ? 'yes' : 'no') : 'n/a')).join(' / ')} |`);
    }
    lines.push('');
  }
  writeFileSync(join(out, 'calibration.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

if (process.argv[1] && /wan-compare\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`wan-compare: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
