// Units and one-line explanations of the simulator's metrics (the keys of flatMetrics), for the
// readable tables: the HTML report, the sweep legend and `gossip-witness simulate`'s stdout. The
// machine-readable outputs (result.json, metrics.csv, runs.csv, observations.csv) keep the raw keys
// and raw values (ms, bytes, fractions).

export type Unit = 'ms' | 'bytes' | 'fraction' | 'count' | 'per hour' | 'bytes per hour' | 'probability';

export interface MetricInfo {
  readonly unit: Unit;
  readonly text: string;
}

const INFO: Record<string, MetricInfo> = {
  nodes: { unit: 'count', text: 'witnesses in the network' },
  logs: { unit: 'count', text: 'logs publishing checkpoints' },
  durationMs: { unit: 'ms', text: 'simulated time (model mode) or wall time (live mode) of the run' },
  forkAtMs: { unit: 'ms', text: 'when the log signed its first branch-B checkpoint (detection times count from here); empty without a fork' },
  'detection.firstMs': { unit: 'ms', text: 'fork → the first honest witness holding verified split-view evidence' },
  'detection.allMs': { unit: 'ms', text: 'fork → the last honest witness holding evidence; empty if some never did' },
  'detection.medianMs': { unit: 'ms', text: 'median over honest witnesses of fork → evidence (those that detected)' },
  'detection.fractionDetected': { unit: 'fraction', text: 'honest witnesses holding evidence at the end' },
  'clients.total': { unit: 'count', text: 'clients' },
  'clients.falseAccepts': { unit: 'count', text: 'clients that accepted a branch-B checkpoint before learning evidence while branch A also had a quorum under their policy (a split view got through; clients following several logs: on any of them)' },
  'clients.falseAcceptRate': { unit: 'fraction', text: 'false accepts / clients' },
  'clients.forkedAccepts': { unit: 'count', text: 'clients that accepted a branch-B checkpoint before learning evidence (whether or not A had a quorum; several logs: on any of them)' },
  'clients.timeToAcceptP50Ms': { unit: 'ms', text: 'median over clients of fork → first accept of a post-fork checkpoint (clients that never accepted left out; several logs: the first fork → the earliest accept on any log)' },
  'clients.timeToAcceptP90Ms': { unit: 'ms', text: '90th percentile of the same' },
  'clients.timeToDetectP50Ms': { unit: 'ms', text: 'median over clients of fork → refusing the log on evidence a witness handed over (several logs: the first fork → refusing any log)' },
  'clients.timeToDetectP90Ms': { unit: 'ms', text: '90th percentile of the same' },
  'clients.protectedFraction': { unit: 'fraction', text: 'clients that learnt evidence by the end (several logs: against any of them)' },
  'monitors.fractionDetected': { unit: 'fraction', text: 'monitors (non-witness gossip nodes) holding evidence at the end' },
  'traffic.messagesPerNodePerHour': {
    unit: 'per hour',
    text: 'gossip transmissions per witness per hour (version 1: messages, IHAVE, IWANT, duplicates and lost ones included; version 2: exchange frames, and evidence messages; live: messages validated or published)',
  },
  'traffic.bytesPerNodePerHour': {
    unit: 'bytes per hour',
    text: 'bytes sent per witness per hour (model: message or frame bytes, no transport framing; live: TCP payload sent on libp2p connections)',
  },
  'traffic.deliveryRatio': { unit: 'fraction', text: 'over every gossiped item × honest witness: the fraction where the witness got it' },
  'traffic.propagationP50Ms': { unit: 'ms', text: 'median over checkpoint texts that reached every honest witness: first holder → last honest witness' },
  'traffic.propagationP99Ms': { unit: 'ms', text: '99th percentile of the same' },
  'perf.wallMs': { unit: 'ms', text: 'wall time of the run (not part of the outcome)' },
  'perf.peakRssBytes': { unit: 'bytes', text: 'peak resident memory of the process (not part of the outcome)' },
  'perf.signaturesVerified': { unit: 'count', text: 'Ed25519 verifications actually computed' },
  'perf.events': { unit: 'count', text: 'simulation events processed' },
};

/** Per-log client metrics (clients.log.L.NAME; populations that state clients.populations[].logs): L is the log. */
const PER_LOG: Record<string, MetricInfo> = {
  clients: { unit: 'count', text: 'clients following log L (clients.populations[].logs)' },
  falseAccepts: { unit: 'count', text: 'clients following log L that accepted a branch-B checkpoint of it before learning evidence against it while branch A also had a quorum under their policy' },
  falseAcceptRate: { unit: 'fraction', text: 'log L false accepts / clients following log L' },
  forkedAccepts: { unit: 'count', text: 'clients following log L that accepted a branch-B checkpoint of it before learning evidence against it' },
  protectedFraction: { unit: 'fraction', text: 'clients following log L that refused it on evidence against it by the end' },
  timeToAcceptP50Ms: { unit: 'ms', text: "median over clients following log L of log L's fork → their first accept of a post-fork checkpoint of it (never: left out)" },
  timeToAcceptP90Ms: { unit: 'ms', text: '90th percentile of the same' },
  timeToDetectP50Ms: { unit: 'ms', text: "median over clients following log L of log L's fork → refusing log L on evidence against it (never: left out)" },
  timeToDetectP90Ms: { unit: 'ms', text: '90th percentile of the same' },
};

/** Unit and explanation of a metric key (detection.within.T included), or null for an unknown key. */
export function metricInfo(name: string): MetricInfo | null {
  const m = /^detection\.within\.(\d+)$/.exec(name);
  if (m) return { unit: 'probability', text: `every honest witness detected within ${humanMs(Number(m[1]))}: 1 yes, 0 no (over seeds: the probability)` };
  const pl = /^clients\.log\.(\d+)\.(\w+)$/.exec(name);
  if (pl) {
    const info = PER_LOG[pl[2]];
    return info ? { unit: info.unit, text: info.text.replace(/\bL\b/g, pl[1]) } : null;
  }
  return INFO[name] ?? null;
}

function humanMs(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

const num = (v: number, digits = 3) => (Number.isInteger(v) ? v.toLocaleString('en-US') : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(digits));

/** A value in its unit, for people: 1234 ms → "1.23 s", 5.2e7 bytes per hour → "52.0 MB/h", 0.5 → "50.0 %". */
export function formatMetric(name: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const unit = metricInfo(name)?.unit;
  switch (unit) {
    case 'ms':
      return Math.abs(v) >= 1000 ? `${(v / 1000).toPrecision(3)} s` : `${v.toPrecision(3)} ms`;
    case 'bytes':
      return v >= 1e6 ? `${(v / 1e6).toPrecision(3)} MB` : v >= 1e3 ? `${(v / 1e3).toPrecision(3)} kB` : `${num(v)} B`;
    case 'bytes per hour':
      return v >= 1e9 ? `${(v / 1e9).toPrecision(3)} GB/h` : v >= 1e6 ? `${(v / 1e6).toPrecision(3)} MB/h` : `${(v / 1e3).toPrecision(3)} kB/h`;
    case 'per hour':
      return `${num(v)} /h`;
    case 'fraction':
      return `${(v * 100).toPrecision(3)} %`;
    default:
      return num(v);
  }
}

/** The unit as a column heading shows it (what formatMetric prints). */
export function unitLabel(name: string): string {
  const unit = metricInfo(name)?.unit;
  return unit === 'ms' ? 'ms or s' : unit === 'bytes per hour' ? 'bytes/h (kB, MB, GB)' : unit === 'per hour' ? 'per hour' : unit === 'fraction' ? '%' : (unit ?? '');
}

/** A plain-text table for a terminal: metric, value with its unit, meaning (wrapped at width). */
export function metricsText(metrics: Record<string, number | null>, width = 100): string {
  const rows = Object.entries(metrics).map(([k, v]) => [k, formatMetric(k, v), metricInfo(k)?.text ?? '']);
  const w0 = Math.max(6, ...rows.map((r) => r[0].length));
  const w1 = Math.max(5, ...rows.map((r) => r[1].length));
  const textWidth = Math.max(30, width - w0 - w1 - 4);
  const lines = [`${'metric'.padEnd(w0)}  ${'value'.padStart(w1)}  meaning`];
  for (const [k, v, t] of rows) {
    const words = t.split(' ');
    const wrapped: string[] = [];
    let cur = '';
    for (const word of words) {
      if (cur && cur.length + 1 + word.length > textWidth) {
        wrapped.push(cur);
        cur = word;
      } else cur = cur ? `${cur} ${word}` : word;
    }
    wrapped.push(cur);
    lines.push(`${k.padEnd(w0)}  ${v.padStart(w1)}  ${wrapped[0]}`);
    for (const more of wrapped.slice(1)) lines.push(`${''.padEnd(w0)}  ${''.padStart(w1)}  ${more}`);
  }
  return lines.join('\n') + '\n';
}
