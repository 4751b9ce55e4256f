// Report files of a simulator run or sweep (docs/simulator.md#reports): result.json, CSV of every
// metric, SVG plots (Vega-Lite, rendered headless) and index.html embedding them. Each file carries
// the provenance — scenario, seed(s), project version, commit, the command to rerun — as CSV
// comment lines, SVG <title>/<desc>, and a provenance section in the HTML.
import { formatMetric, metricInfo } from './metrics.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Provenance, RunResult, SweepResult } from '../result.js';
import { scenarioToYamlObject } from '../sweep.js';
import type { Scenario } from '../scenario.js';
import { quantile } from '../stats.js';
import { cdfSpec, renderSvg, xySpec, type XYPoint } from './charts.js';

export { renderSvg, cdfSpec, xySpec } from './charts.js';

type AnyProvenance = Omit<Provenance, 'seed'> & { seed?: number; seeds?: readonly number[] };

export function isSweep(r: RunResult | SweepResult): r is SweepResult {
  return 'points' in r;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const shellQuote = (s: string) => (/^[A-Za-z0-9_./=,:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command that reproduces a result (the recorded one, else rebuilt from the provenance). */
export function rerunCommand(result: RunResult | SweepResult): string {
  const p = result.provenance as AnyProvenance;
  if (p.command) return p.command;
  const file = shellQuote(p.scenarioFile ?? 'scenario.yaml');
  const live = p.mode === 'live' ? ' --live' : '';
  if (isSweep(result)) {
    const seeds = p.seeds ?? [];
    return `gossip-witness simulate ${file}${live} --sweep ${result.parameter}=${result.points.map((x) => x.value).join(',')} --seed ${seeds[0] ?? 1} --seeds ${seeds.length} --out DIR`;
  }
  return `gossip-witness simulate ${file}${live} --seed ${p.seed} --out DIR`;
}

function seedsOf(result: RunResult | SweepResult): readonly number[] {
  const p = result.provenance as AnyProvenance;
  return p.seeds ?? (p.seed !== undefined ? [p.seed] : []);
}

/** Provenance as "key: value" lines (CSV comments, SVG desc, HTML). */
export function provenanceLines(result: RunResult | SweepResult): [string, string][] {
  const p = result.provenance as AnyProvenance;
  const rows: [string, string][] = [
    ['tool', `gossip-witness ${p.version}`],
    ['commit', p.commit ?? 'unknown'],
    ['mode', p.mode],
    [isSweep(result) ? 'seeds' : 'seed', seedsOf(result).join(',')],
    ['scenario file', p.scenarioFile ?? '(none: scenario given inline)'],
    ['started', p.startedAt],
    ['runtime', p.runtime],
    ['rerun', rerunCommand(result)],
  ];
  if (isSweep(result)) rows.splice(4, 0, ['sweep', `${result.parameter} = ${result.points.map((x) => x.value).join(', ')}`]);
  rows.push(['scenario', JSON.stringify(p.scenario)]);
  return rows;
}

/** The scenario as YAML a user can save and rerun (the parsed form spelled back as a scenario file). */
function scenarioYaml(scenario: unknown): string {
  try {
    return stringify(scenarioToYamlObject(scenario as Scenario));
  } catch {
    return stringify(scenario);
  }
}

// ---- CSV ----

function csvCell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n#]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(result: RunResult | SweepResult, header: string[], rows: unknown[][]): string {
  const comments = provenanceLines(result).map(([k, v]) => `# ${k}: ${v.replace(/\n/g, ' ')}`);
  return [...comments, header.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n';
}

/** Every scalar metric of a run, flattened to dotted names. */
export function flatMetrics(r: RunResult): Record<string, number | null> {
  const d = r.detection;
  const out: Record<string, number | null> = {
    nodes: r.nodes,
    logs: r.logs,
    durationMs: r.durationMs,
    forkAtMs: r.forkAtMs,
    'detection.firstMs': d.firstMs,
    'detection.allMs': d.allMs,
    'detection.medianMs': medianDetection(r),
    'detection.fractionDetected': d.fractionDetected,
  };
  for (const [t, v] of Object.entries(d.withinMs)) out[`detection.within.${t}`] = v;
  Object.assign(out, {
    'clients.total': r.clients.total,
    'clients.falseAccepts': r.clients.falseAccepts,
    'clients.falseAcceptRate': r.clients.falseAcceptRate,
    'clients.forkedAccepts': r.model?.forkedAccepts ?? r.live?.forkedAccepts ?? null,
    // Distributions over clients (time from the fork; clients that never did are left out): time to accept, time to detect.
    'clients.timeToAcceptP50Ms': clientQuantile(r, 'acceptMs', 0.5),
    'clients.timeToAcceptP90Ms': clientQuantile(r, 'acceptMs', 0.9),
    'clients.timeToDetectP50Ms': clientQuantile(r, 'detectMs', 0.5),
    'clients.timeToDetectP90Ms': clientQuantile(r, 'detectMs', 0.9),
    'clients.protectedFraction': r.clients.perClient && r.clients.total > 0 ? r.clients.perClient.detectMs.filter((x) => x !== null).length / r.clients.total : null,
    'monitors.fractionDetected': r.monitors ? r.monitors.fractionDetected : null,
    // Populations following several logs: the metrics above are over any log; these are per log.
    ...Object.fromEntries(
      (r.clients.perLog ?? []).flatMap((x) => [
        [`clients.log.${x.log}.clients`, x.clients],
        [`clients.log.${x.log}.falseAccepts`, x.falseAccepts],
        [`clients.log.${x.log}.falseAcceptRate`, x.falseAcceptRate],
        [`clients.log.${x.log}.forkedAccepts`, x.forkedAccepts],
        [`clients.log.${x.log}.protectedFraction`, x.protectedFraction],
        [`clients.log.${x.log}.timeToAcceptP50Ms`, x.timeToAcceptP50Ms],
        [`clients.log.${x.log}.timeToAcceptP90Ms`, x.timeToAcceptP90Ms],
        [`clients.log.${x.log}.timeToDetectP50Ms`, x.timeToDetectP50Ms],
        [`clients.log.${x.log}.timeToDetectP90Ms`, x.timeToDetectP90Ms],
      ]),
    ),
    'traffic.messagesPerNodePerHour': r.traffic.messagesPerNodePerHour,
    'traffic.bytesPerNodePerHour': r.traffic.bytesPerNodePerHour,
    'traffic.deliveryRatio': r.traffic.deliveryRatio,
    'traffic.propagationP50Ms': r.traffic.propagationP50Ms,
    'traffic.propagationP99Ms': r.traffic.propagationP99Ms,
    'perf.wallMs': r.perf.wallMs,
    'perf.peakRssBytes': r.perf.peakRssBytes,
    'perf.signaturesVerified': r.perf.signaturesVerified,
    'perf.events': r.perf.events,
  });
  return out;
}

function clientQuantile(r: RunResult, col: 'acceptMs' | 'detectMs', q: number): number | null {
  const xs = r.clients.perClient?.[col].filter((x): x is number => x !== null) ?? [];
  return xs.length === 0 ? null : quantile(xs, q);
}

function medianDetection(r: RunResult): number | null {
  const xs = r.detection.perNodeMs.filter((x): x is number => x !== null);
  return xs.length === 0 ? null : quantile(xs, 0.5);
}

// ---- formatting ----

function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(digits);
}

function fmtCi(s: { mean: number; lo: number; hi: number; n: number } | undefined): string {
  if (!s || !Number.isFinite(s.mean)) return '—';
  return s.n >= 2 ? `${fmt(s.mean)} [${fmt(s.lo)}, ${fmt(s.hi)}]` : fmt(s.mean);
}

// ---- plots ----

interface Plot {
  file: string;
  title: string;
  svg: string;
}

/** k and n of the clients' policy, and colluding count, from the provenance scenario when present. */
function quorumOf(scenario: unknown): { k: number; n: number; c: number } | null {
  const s = scenario as Partial<Scenario> | null;
  const pol = s?.clients?.policy;
  if (!pol || typeof pol.k !== 'number' || typeof pol.n !== 'number') return null;
  return { k: pol.k, n: pol.n, c: s?.adversary?.colluding ?? 0 };
}

const ACCEPT_AXES = { x: 'time from fork to first accept of a post-fork checkpoint (s)', y: 'fraction of clients (never: not reached)' };
const CLIENT_DETECT_AXES = { x: 'time from fork to refusing on evidence (s)', y: 'fraction of clients (never: not reached)' };

/** The clients' time-to-accept and time-to-detect CDFs (clients that never did count in the denominator); none without per-client data. */
async function clientPlots(groups: { name: string; runs: readonly RunResult[] }[], label: string, desc: string): Promise<Plot[]> {
  const withClients = groups.filter((g) => g.runs.some((r) => r.clients.perClient && r.clients.perClient.acceptMs.length > 0));
  if (withClients.length === 0) return [];
  const plots: Plot[] = [];
  for (const [file, col, what, axes] of [
    ['client-accept-cdf.svg', 'acceptMs', 'Time-to-accept CDF', ACCEPT_AXES],
    ['client-detect-cdf.svg', 'detectMs', 'Time-to-detect CDF (clients)', CLIENT_DETECT_AXES],
  ] as const) {
    const title = `${what} ${label}`;
    const series = withClients.map((g) => ({ name: g.name, times: g.runs.flatMap((r) => r.clients.perClient?.[col] ?? []) }));
    plots.push({ file, title, svg: await renderSvg(cdfSpec(series, title, axes), { title, desc: `${title}. ${desc}` }) });
  }
  return plots;
}

async function runPlots(result: RunResult, desc: string): Promise<Plot[]> {
  const title = `Detection-time CDF (${result.provenance.mode}, seed ${result.provenance.seed})`;
  const svg = await renderSvg(cdfSpec([{ name: `seed ${result.provenance.seed}`, times: result.detection.perNodeMs }], title), { title, desc });
  const pc = result.clients.perClient;
  // One curve per client population when there are several.
  const pops = pc ? [...new Set(pc.population)] : [];
  const pl = result.clients.perClientLog;
  // Populations following several logs: one curve per log instead (times from that log's own fork).
  const perLog = pl ? [...new Set(pl.log)].sort((a, b) => a - b) : [];
  const groups =
    pc && pl
      ? perLog.map((l) => {
          const keep = (_: unknown, j: number) => pl.log[j] === l;
          const sub = { ...pc, acceptMs: pl.acceptMs.filter(keep), detectMs: pl.detectMs.filter(keep) };
          return { name: `log ${l}`, runs: [{ ...result, clients: { ...result.clients, perClient: sub } }] };
        })
      : pc && pops.length > 1
      ? pops.map((name) => {
          const keep = (_: unknown, c: number) => pc.population[c] === name;
          const sub = { ...pc, acceptMs: pc.acceptMs.filter(keep), detectMs: pc.detectMs.filter(keep) };
          return { name: `population ${name}`, runs: [{ ...result, clients: { ...result.clients, perClient: sub } }] };
        })
      : [{ name: `seed ${result.provenance.seed}`, runs: [result] }];
  return [{ file: 'detection-cdf.svg', title, svg }, ...(await clientPlots(groups, `(${result.provenance.mode}, seed ${result.provenance.seed})`, desc))];
}

async function sweepPlots(result: SweepResult, desc: string): Promise<Plot[]> {
  const param = result.parameter;
  const plots: Plot[] = [];
  const add = async (file: string, title: string, spec: Parameters<typeof renderSvg>[0]) => plots.push({ file, title, svg: await renderSvg(spec, { title, desc: `${title}. ${desc}` }) });
  // One CDF per point, pooling the per-node detection times of all its seeds.
  await add(
    'detection-cdf.svg',
    `Detection-time CDF by ${param}`,
    cdfSpec(
      result.points.map((p) => ({ name: `${param}=${p.value}`, times: p.runs.flatMap((r) => r.detection.perNodeMs) })),
      `Detection-time CDF by ${param} (all seeds pooled)`,
    ),
  );
  plots.push(...(await clientPlots(result.points.map((p) => ({ name: `${param}=${p.value}`, runs: p.runs })), `by ${param} (all seeds pooled)`, desc)));
  const series = (metric: string, name: string, scale = 1): XYPoint[] =>
    result.points.map((p) => {
      const s = p.summary[metric];
      return { x: p.value, mean: (s?.mean ?? NaN) / scale, lo: (s?.lo ?? NaN) / scale, hi: (s?.hi ?? NaN) / scale, series: name };
    });
  const s = slug(param);
  await add(
    `detection-vs-${s}.svg`,
    `Detection time vs ${param}`,
    xySpec([...series('detection.firstMs', 'first honest node', 1000), ...series('detection.allMs', 'every honest node', 1000)], {
      title: `Time from fork to detection vs ${param} (mean, 95% CI)`,
      x: param,
      y: 'seconds',
    }),
  );
  // The quorum line: a forked checkpoint can gather k cosignatures on both branches only if c ≥ 2k − n.
  const q = quorumOf(result.provenance.scenario);
  let rule: { x: number; label: string } | undefined;
  if (q && /(^|\.)colluding$/.test(param)) rule = { x: 2 * q.k - q.n, label: `c = 2k − n = ${2 * q.k - q.n} (k=${q.k}, n=${q.n})` };
  else if (q && /clients\.policy\.k$/.test(param)) rule = { x: (q.n + q.c) / 2, label: `k = (n + c)/2 = ${(q.n + q.c) / 2} (n=${q.n}, c=${q.c})` };
  await add(
    `false-accepts-vs-${s}.svg`,
    `False-accept rate vs ${param}`,
    xySpec([...series('falseAcceptRate', 'false accepts (quorum on both branches)'), ...series('forkedAcceptRate', 'accepted branch B')], { title: `Clients accepting a forked checkpoint vs ${param} (mean, 95% CI)`, x: param, y: 'false-accept rate', yDomain: [0, 1], ...(rule ? { rule } : {}) }),
  );
  await add(
    `bandwidth-vs-${s}.svg`,
    `Bandwidth vs ${param}`,
    xySpec(series('bytesPerNodePerHour', 'bytes per node per hour', 1e6), { title: `Gossip traffic per node vs ${param} (mean, 95% CI)`, x: param, y: 'MB per node per hour' }),
  );
  return plots;
}

// ---- HTML ----

function table(header: string[], rows: string[][]): string {
  return `<div class="scroll"><table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

/** How the run(s) approximated the scenario (live mode), each note once. */
function notesOf(result: RunResult | SweepResult): string[] {
  const runs = isSweep(result) ? result.points.flatMap((p) => p.runs) : [result];
  return [...new Set(runs.flatMap((r) => r.notes ?? []))];
}

function html(result: RunResult | SweepResult, plots: Plot[], files: string[]): string {
  const p = result.provenance as AnyProvenance;
  const sweep = isSweep(result);
  const name = (p.scenario as { name?: string } | null)?.name ?? 'scenario';
  const title = sweep ? `Simulator sweep: ${name}, ${result.parameter}` : `Simulator run: ${name} (${p.mode}, seed ${p.seed})`;
  let metrics: string;
  if (sweep) {
    const names = Object.keys(result.points[0]?.summary ?? {});
    metrics =
      `<p>Mean and 95% confidence interval (Student t over ${seedsOf(result).length} seed(s)) of each metric at each value of <code>${escapeHtml(result.parameter)}</code>. Detection times are in ms from the fork; runs in which a metric is undefined (e.g. some node never detected) are left out of its mean (n shows how many counted).</p>` +
      table([result.parameter, ...names.map((n) => (metricInfo(n) ? `${n} (${metricInfo(n)!.unit})` : n))], result.points.map((pt) => [String(pt.value), ...names.map((n) => `${fmtCi(pt.summary[n])}${pt.summary[n] && pt.summary[n].n < pt.runs.length ? ` (n=${pt.summary[n].n})` : ''}`)])) +
      `<p>The metrics (raw units, as in the table above):</p>` +
      table(['metric', 'unit', 'meaning'], names.map((n) => [n, metricInfo(n)?.unit ?? '', metricInfo(n)?.text ?? '']));
  } else {
    const fm = flatMetrics(result);
    metrics =
      `<p>Values in their units (ms shown as s from 1,000 ms on; bytes per hour as kB/MB/GB per hour; fractions as %). The raw values are in <code>metrics.csv</code> and <code>result.json</code>.</p>` +
      table(['metric', 'value', 'raw', 'unit', 'meaning'], Object.entries(fm).map(([k, v]) => [k, formatMetric(k, v), fmt(v), metricInfo(k)?.unit ?? '', metricInfo(k)?.text ?? '']));
  }
  const prov = provenanceLines(result).filter(([k]) => k !== 'scenario');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="generator" content="gossip-witness ${escapeHtml(p.version)}">
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}pre{background:#f6f6f6;padding:1em;overflow:auto}figure{margin:1.5em 0}code{background:#f3f3f3;padding:0 3px}.scroll{overflow-x:auto}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<h2>Metrics</h2>
${metrics}
${notesOf(result).length > 0 ? `<h2>Notes</h2>\n<ul>${notesOf(result).map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
<h2>Plots</h2>
${plots.map((x) => `<figure id="${escapeHtml(x.file)}">${x.svg}<figcaption>${escapeHtml(x.title)} (<a href="${escapeHtml(x.file)}">${escapeHtml(x.file)}</a>)</figcaption></figure>`).join('\n')}
<h2 id="provenance">Provenance</h2>
${table(['', ''], prov)}
<p>To reproduce, run (identical seeds give identical model-mode results; live mode runs real processes and varies):</p>
<pre id="rerun">${escapeHtml(rerunCommand(result))}</pre>
<p>The scenario as run (after defaults), as a scenario file:</p>
<pre id="scenario">${escapeHtml(scenarioYaml(p.scenario))}</pre>
${!sweep && result.evidence ? `<p>Evidence (gossip-witness/evidence/v1, base64), first found: <code>${escapeHtml(result.evidence.slice(0, 80))}…</code> (in result.json)</p>` : ''}
<h2>Files</h2>
<ul>${files.map((f) => `<li><a href="${escapeHtml(f)}">${escapeHtml(f)}</a></li>`).join('')}</ul>
</body></html>
`;
}

/**
 * Writes the report of a run or a sweep into dir (created if needed) and returns the paths written.
 * result.json is left alone when it exists (the engine may have written it already).
 */
export async function writeReport(dir: string, result: RunResult | SweepResult): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (file: string, text: string) => {
    writeFileSync(join(dir, file), text);
    written.push(join(dir, file));
  };
  if (!existsSync(join(dir, 'result.json'))) put('result.json', JSON.stringify(result, null, 2) + '\n');
  const desc = provenanceLines(result)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  let plots: Plot[];
  const files: string[] = ['result.json'];
  if (isSweep(result)) {
    const metricNames = [...new Set(result.points.flatMap((p) => p.runs.flatMap((r) => Object.keys(flatMetrics(r)))))];
    put('runs.csv', csv(result, [result.parameter, 'seed', ...metricNames], result.points.flatMap((p) => p.runs.map((r) => [p.value, r.provenance.seed, ...metricNames.map((m) => flatMetrics(r)[m])]))));
    put('summary.csv', csv(result, [result.parameter, 'metric', 'mean', 'ci95_lo', 'ci95_hi', 'n'], result.points.flatMap((p) => Object.entries(p.summary).map(([m, s]) => [p.value, m, s.mean, s.lo, s.hi, s.n]))));
    files.push('runs.csv', 'summary.csv');
    plots = await sweepPlots(result, desc);
  } else {
    put('detection.csv', csv(result, ['node', 'detection_ms'], result.detection.perNodeMs.map((t, i) => [i, t])));
    put('metrics.csv', csv(result, ['metric', 'value'], Object.entries(flatMetrics(result)).map(([k, v]) => [k, v])));
    files.push('detection.csv', 'metrics.csv');
    plots = await runPlots(result, desc);
  }
  for (const x of plots) put(x.file, x.svg);
  files.push(...plots.map((x) => x.file));
  put('index.html', html(result, plots, files));
  return written;
}
