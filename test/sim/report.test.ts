// Report files from synthetic results: every file exists, SVGs are well-formed XML holding the
// data (one point mark per distinct detection time, one error bar per sweep point), the HTML
// embeds every SVG and the provenance, CSVs carry the provenance and every row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, type Element as XElement } from '@xmldom/xmldom';
import { writeReport, rerunCommand } from '../../src/sim/report/index.js';
import { runSweep } from '../../src/sim/sweep.js';
import type { SweepResult } from '../../src/sim/result.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { SCENARIO, syntheticRun } from './synthetic.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gw-sim-report-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function parseXml(text: string) {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => errors.push(`${level}: ${msg}`) }).parseFromString(text, 'image/svg+xml');
  expect(errors).toEqual([]);
  return doc;
}

function all(doc: ReturnType<typeof parseXml>, tag: string): XElement[] {
  return Array.from(doc.getElementsByTagName(tag)) as unknown as XElement[];
}

/** The data marks Vega drew: the <path>/<line> children of groups of class "mark-X role-mark". */
function marks(doc: ReturnType<typeof parseXml>, cls: string): XElement[] {
  return all(doc, 'g')
    .filter((g) => {
      const c = (g.getAttribute('class') ?? '').split(' ');
      return c.includes(cls) && c.includes('role-mark'); // not legend symbols
    })
    .flatMap((g) => Array.from(g.childNodes).filter((c) => (c as unknown as XElement).tagName === 'path' || (c as unknown as XElement).tagName === 'line') as unknown as XElement[]);
}

describe('writeReport: one run', () => {
  it('writes result.json, CSVs, the CDF SVG and index.html, each with the provenance', async () => {
    const out = join(dir, 'run');
    const r = syntheticRun(7, { nodes: 12, never: 2 });
    const files = await writeReport(out, r);
    for (const f of ['result.json', 'detection.csv', 'metrics.csv', 'detection-cdf.svg', 'index.html']) {
      expect(files).toContain(join(out, f));
      expect(existsSync(join(out, f))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))).toEqual(r);

    const svg = readFileSync(join(out, 'detection-cdf.svg'), 'utf8');
    const doc = parseXml(svg);
    expect(doc.documentElement!.tagName).toBe('svg');
    // 10 distinct detection times + the origin point (0, 0): 11 symbols on one line.
    expect(marks(doc, 'mark-symbol')).toHaveLength(11);
    expect(marks(doc, 'mark-line')).toHaveLength(1);
    const desc = all(doc, 'desc')[0].textContent!;
    expect(desc).toContain('seed: 7');
    expect(desc).toContain('gossip-witness 0.1.0');
    expect(desc).toContain('commit: abc123');
    expect(desc).toContain('network-config/scenarios/synthetic.yaml');
    expect(all(doc, 'title')[0].textContent).toContain('Detection-time CDF');

    const det = readFileSync(join(out, 'detection.csv'), 'utf8').split('\n');
    expect(det.filter((l) => l.startsWith('# ')).map((l) => l.split(':')[0])).toEqual(expect.arrayContaining(['# tool', '# commit', '# seed', '# scenario', '# rerun']));
    const rows = det.filter((l) => l && !l.startsWith('#'));
    expect(rows[0]).toBe('node,detection_ms');
    expect(rows.slice(1)).toHaveLength(12);
    expect(rows[1]).toBe('0,107');
    expect(rows[12]).toBe('11,'); // never detected: empty cell
    const metrics = readFileSync(join(out, 'metrics.csv'), 'utf8');
    expect(metrics).toMatch(/^detection\.fractionDetected,0\.8333/m);
    expect(metrics).toMatch(/^clients\.falseAcceptRate,0$/m);

    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain(svg.slice(0, 200)); // embedded inline, not linked
    expect(html).toContain('abc123');
    expect(html).toContain('gossip-witness simulate network-config/scenarios/synthetic.yaml --seed 7 --out DIR');
    expect(html).toContain('name: synthetic'); // the scenario as YAML
    // The scenario printed in the report is itself a valid scenario file equal to the one run.
    const yamlText = html.match(/<pre id="scenario">([\s\S]*?)<\/pre>/)![1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    expect(parseScenario(yamlText)).toEqual(SCENARIO);
  });

  it('keeps an existing result.json (the engine may write it first)', async () => {
    const out = join(dir, 'keep');
    await writeReport(out, syntheticRun(1));
    writeFileSync(join(out, 'result.json'), '{"mine":true}');
    const files = await writeReport(out, syntheticRun(1));
    expect(files).not.toContain(join(out, 'result.json'));
    expect(readFileSync(join(out, 'result.json'), 'utf8')).toBe('{"mine":true}');
  });

  it('uses the recorded command line when there is one', () => {
    const r = syntheticRun(3);
    expect(rerunCommand({ ...r, provenance: { ...r.provenance, command: 'gossip-witness simulate x.yaml --seed 3 --out o' } })).toBe('gossip-witness simulate x.yaml --seed 3 --out o');
  });
});

describe('writeReport: a sweep', () => {
  let sweep: SweepResult;
  const values = [0, 1, 2, 3, 4];
  beforeAll(async () => {
    sweep = await runSweep(SCENARIO, 'adversary.colluding', values, [1, 2, 3], async (s, seed) =>
      syntheticRun(seed, { scenario: s, scale: 1 + s.adversary!.colluding, falseAcceptRate: s.adversary!.colluding >= 1 ? (s.adversary!.colluding * seed) / 20 : 0 }),
    );
  });

  it('writes one CSV row per (point, seed), a summary with CIs, and the plots', async () => {
    const out = join(dir, 'sweep');
    await writeReport(out, sweep);
    const runs = readFileSync(join(out, 'runs.csv'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(runs[0].split(',').slice(0, 4)).toEqual(['adversary.colluding', 'seed', 'nodes', 'logs']);
    expect(runs.slice(1)).toHaveLength(values.length * 3);
    const summary = readFileSync(join(out, 'summary.csv'), 'utf8');
    expect(summary).toMatch(/^# seeds: 1,2,3$/m);
    expect(summary).toMatch(/^# sweep: adversary\.colluding = 0, 1, 2, 3, 4$/m);
    // firstMs at colluding 0 is 100 + seed: mean 102, t(2)=4.303, sd 1 -> ±2.484
    const line = summary.split('\n').find((l) => l.startsWith('0,detection.firstMs,'))!;
    const [, , m, lo, hi, n] = line.split(',');
    expect(Number(m)).toBe(102);
    expect(Number(lo)).toBeCloseTo(102 - (4.303 * 1) / Math.sqrt(3), 6);
    expect(Number(hi)).toBeCloseTo(102 + (4.303 * 1) / Math.sqrt(3), 6);
    expect(n).toBe('3');

    for (const f of ['detection-cdf.svg', 'detection-vs-adversary-colluding.svg', 'false-accepts-vs-adversary-colluding.svg', 'bandwidth-vs-adversary-colluding.svg']) {
      const doc = parseXml(readFileSync(join(out, f), 'utf8'));
      expect(all(doc, 'desc')[0].textContent).toContain('seeds: 1,2,3');
    }
    // CDF: one line per point.
    expect(marks(parseXml(readFileSync(join(out, 'detection-cdf.svg'), 'utf8')), 'mark-line')).toHaveLength(values.length);
    // Detection vs parameter: two series (first, every) x 5 points, each with an error bar.
    const det = parseXml(readFileSync(join(out, 'detection-vs-adversary-colluding.svg'), 'utf8'));
    expect(marks(det, 'mark-symbol')).toHaveLength(2 * values.length);
    expect(marks(det, 'mark-rule')).toHaveLength(2 * values.length);
    // False accepts: 5 points with error bars, plus the c = 2k - n line (k=3, n=5: c=1) and its label.
    const fa = readFileSync(join(out, 'false-accepts-vs-adversary-colluding.svg'), 'utf8');
    const faDoc = parseXml(fa);
    expect(marks(faDoc, 'mark-symbol')).toHaveLength(values.length);
    expect(marks(faDoc, 'mark-rule')).toHaveLength(values.length + 1);
    expect(fa).toContain('c = 2k − n = 1 (k=3, n=5)');

    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect((html.match(/<svg /g) ?? []).length).toBe(4);
    expect(html).toContain('--sweep adversary.colluding=0,1,2,3,4 --seed 1 --seeds 3');
    expect(html).toContain('abc123');
  });
});

describe('end to end: model mode on network-config/scenarios/small.yaml', () => {
  it('a run and a two-point sweep give complete reports', async () => {
    const { loadScenario } = await import('../../src/sim/scenario.js');
    const { runScenario } = await import('../../src/sim/run.js');
    const file = 'network-config/scenarios/small.yaml';
    const s = loadScenario(file);
    const r = await runScenario(s, { seed: 1, scenarioFile: file });
    const out = join(dir, 'small');
    await writeReport(out, r);
    const doc = parseXml(readFileSync(join(out, 'detection-cdf.svg'), 'utf8'));
    const detected = new Set(r.detection.perNodeMs.filter((x) => x !== null)).size;
    expect(detected).toBeGreaterThan(0);
    expect(marks(doc, 'mark-symbol')).toHaveLength(detected + 1);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(`gossip-witness simulate ${file} --seed 1 --out DIR`);

    const sweep = await runSweep(s, 'witnesses.pollIntervalMs', [10_000, 60_000], [1, 2], (x, seed) => runScenario(x, { seed, scenarioFile: file }));
    expect(sweep.points.map((p) => p.runs.map((x) => (x.provenance.scenario as typeof s).witnesses.pollIntervalMs))).toEqual([
      [10_000, 10_000],
      [60_000, 60_000],
    ]);
    const sOut = join(dir, 'small-sweep');
    await writeReport(sOut, sweep);
    const det = parseXml(readFileSync(join(sOut, 'detection-vs-witnesses-pollintervalms.svg'), 'utf8'));
    expect(marks(det, 'mark-rule').length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(sOut, 'runs.csv'), 'utf8').split('\n').filter((l) => /^\d/.test(l))).toHaveLength(4);
  }, 120_000);
});

describe('clients: time-to-accept and time-to-detect CDFs', () => {
  it('a run with two populations gets one curve per population; each curve ends at the fraction of its clients that accepted (detected)', async () => {
    const { runScenario } = await import('../../src/sim/run.js');
    const { cdfSpec } = await import('../../src/sim/report/charts.js');
    const s = parseScenario(`
name: cdf
seed: 4
duration: 5m
network: { nodes: 16, degree: 4, meshDegree: 3, messages: coalesced, partitions: [{ at: 0s, until: 3m, byBranch: true }] }
logs: { interval: 20s }
adversary: { forkAt: 1m, branchB: { fraction: 0.25 }, clientsB: 0.3 }
clients:
  policy: { k: 2, n: 3 }
  populations: [{ name: fast, count: 20, fetch: { interval: 10s } }, { name: slow, count: 20, fetch: { interval: 2m, latency: { distribution: fixed, median: 100ms } } }]
signatures: modelled
`);
    const r = await runScenario(s, { seed: 4 });
    const out = join(dir, 'client-cdf');
    const files = await writeReport(out, r);
    const pc = r.clients.perClient!;
    for (const [file, col] of [['client-accept-cdf.svg', 'acceptMs'], ['client-detect-cdf.svg', 'detectMs']] as const) {
      expect(files).toContain(join(out, file));
      const doc = parseXml(readFileSync(join(out, file), 'utf8'));
      expect(marks(doc, 'mark-line')).toHaveLength(2);
      expect(all(doc, 'desc')[0].textContent).toContain('seed: 4');
      // The plotted data: each population's last step is its count of non-null times over its clients (independent count).
      for (const name of ['fast', 'slow']) {
        const times = pc[col].filter((_, c) => pc.population[c] === name);
        const spec = cdfSpec([{ name, times }], 't') as unknown as { data: { values: { p: number }[] } };
        const last = spec.data.values[spec.data.values.length - 1].p;
        expect(last).toBeCloseTo(times.filter((x) => x !== null).length / 20, 12);
      }
    }
    expect(pc.acceptMs.some((x) => x !== null)).toBe(true);
    expect(pc.detectMs.some((x) => x !== null)).toBe(true);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('Time-to-accept CDF');
    expect(html).toContain('Time-to-detect CDF (clients)');
  });
});

describe('calibration report', () => {
  it('compares the two modes against the stated tolerance and writes md, csv, json and one CDF with both', async () => {
    const { compare, writeCalibration } = await import('../../src/sim/calibrate.js');
    const model = [1, 2, 3].map((s) => syntheticRun(s));
    const liveClose = [1, 2, 3].map((s) => {
      const r = syntheticRun(s, { scale: 1.2 });
      return { ...r, provenance: { ...r.provenance, mode: 'live' as const } };
    });
    const ok = compare(SCENARIO, 'x.yaml', [1, 2, 3], model, liveClose);
    // Pooled medians 552 vs 662 ms: within max(50% of live, 250 ms).
    expect(ok.checks.find((c) => c.name.startsWith('median'))!.pass).toBe(true);
    expect(ok.pass).toBe(true);
    const liveFar = [1, 2, 3].map((s) => syntheticRun(s, { scale: 10 }));
    const far = compare(SCENARIO, 'x.yaml', [1, 2, 3], model, liveFar);
    expect(far.pass).toBe(false);
    expect(far.checks.filter((c) => !c.pass).map((c) => c.name)).toEqual(['median detection time (ms)', 'p90 detection time (ms)']);
    expect(far.ks.d).toBeGreaterThan(0.8); // the live times are 10x: the CDFs barely overlap

    const out = join(dir, 'calibration');
    await writeCalibration(out, far, 'gossip-witness simulate x.yaml --calibrate --seeds 3 --out o');
    const md = readFileSync(join(out, 'calibration.md'), 'utf8');
    expect(md).toContain('## Result: OUTSIDE tolerance');
    expect(md).toContain('max(50% of the live median, 250 ms)');
    expect(md).toMatch(/\*\*median detection time \(ms\)\*\*: model 552\.000 vs live 5502\.000/);
    expect(md).toContain('gossip-witness simulate x.yaml --calibrate --seeds 3 --out o');
    const doc = parseXml(readFileSync(join(out, 'calibration-cdf.svg'), 'utf8'));
    expect(marks(doc, 'mark-line')).toHaveLength(2);
    expect(all(doc, 'desc')[0].textContent).toContain('seeds: 1,2,3');
    const csvRows = readFileSync(join(out, 'calibration.csv'), 'utf8').split('\n').filter((l) => /^(model|live),/.test(l));
    expect(csvRows).toHaveLength(6 * 10);
    expect(JSON.parse(readFileSync(join(out, 'calibration.json'), 'utf8')).pass).toBe(false);
  });
});
