// deploy/prometheus/alerts.yml cannot silently refer to metrics that do not exist: every rule's
// expression is parsed with Prometheus's own PromQL grammar (@prometheus-io/lezer-promql), and
// every metric and label it selects must be exported by a started node (with gossip), read from
// its GET /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { parser } from '@prometheus-io/lezer-promql';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TestLog } from '../helpers/fork.js';
import { push } from '../gossip/helpers.js';

const ALERTS = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));
/** Series Prometheus itself makes for every target. */
const SYNTHETIC = new Set(['up']);
/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job']);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description?: string };
}

interface Selector {
  metric: string;
  labels: string[];
}

/** Syntax errors and the vector selectors (metric name, matcher labels) of a PromQL expression. */
function analyse(expr: string): { errors: number; selectors: Selector[]; grouping: string[] } {
  const tree = parser.parse(expr);
  let errors = 0;
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(n) {
      if (n.type.isError) errors++;
      if (n.name === 'VectorSelector') {
        const id = n.node.getChild('Identifier');
        const matchers = n.node.getChild('LabelMatchers');
        const labels = matchers ? matchers.getChildren('UnquotedLabelMatcher').map((m) => text(m.getChild('LabelName')!.from, m.getChild('LabelName')!.to)) : [];
        selectors.push({ metric: id ? text(id.from, id.to) : '', labels });
      }
      if (n.name === 'GroupingLabels') for (const l of n.node.getChildren('LabelName')) grouping.push(text(l.from, l.to));
    },
  });
  return { errors, selectors, grouping };
}

/** Metric families and their label names, from the exposition text plus the node's registry. */
function families(exposition: string, node: WitnessNode): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const names = m[2] === 'histogram' ? ['', '_bucket', '_sum', '_count'].map((s) => m[1] + s) : m[2] === 'summary' ? ['', '_sum', '_count'].map((s) => m[1] + s) : [m[1]];
    for (const n of names) out.set(n, new Set(m[2] === 'histogram' && n.endsWith('_bucket') ? ['le'] : []));
  }
  // Label names of series without samples do not appear in the text; prom-client keeps them on the metric.
  for (const metric of node.metrics.registry.getMetricsAsArray() as unknown as { name: string; labelNames?: string[] }[]) {
    for (const [n, set] of out) if (n === metric.name || n.startsWith(metric.name + '_')) for (const l of metric.labelNames ?? []) set.add(l);
  }
  return out;
}

/** Problems with one rule's expression against the exported families. */
function problems(expr: string, fams: Map<string, Set<string>>): string[] {
  const a = analyse(expr);
  const out: string[] = [];
  if (a.errors > 0) out.push(`PromQL syntax error in ${JSON.stringify(expr)}`);
  for (const s of a.selectors) {
    if (SYNTHETIC.has(s.metric)) continue;
    const labels = fams.get(s.metric);
    if (!labels) {
      out.push(`metric ${s.metric || '(none)'} is not exported`);
      continue;
    }
    for (const l of s.labels) if (!labels.has(l) && !TARGET_LABELS.has(l)) out.push(`metric ${s.metric} has no label ${l}`);
  }
  const all = new Set(a.selectors.flatMap((s) => [...(fams.get(s.metric) ?? [])]));
  for (const l of a.grouping) if (!all.has(l) && !TARGET_LABELS.has(l)) out.push(`grouping label ${l} is on none of the selected metrics`);
  return out;
}

let node: WitnessNode | undefined;
let dir = '';
let exposition = '';
const log = new TestLog('example.com/alerts').append(3);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-alerts-'));
  const yaml =
    `name: w0.example\nkey: ${join(dir, 'w0.key')}\ndata: ${join(dir, 'data')}\nhttp: { listen: "127.0.0.1:0" }\n` +
    `logs:\n  - origin: ${log.origin}\n    vkeys: ["${log.key.vkey}"]\n` +
    `p2p:\n  listen: [/ip4/127.0.0.1/tcp/0]\n  allowLoopback: true\n  startupSync: 0s\n`;
  node = await startWitnessNode(parseConfig(yaml, join(dir, 'w0.yaml')), { store: new MemoryStore() });
  expect(await push(node, log)).toBe('cosigned');
  exposition = await (await fetch(`${node.url}/metrics`)).text();
});

afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy/prometheus/alerts.yml', () => {
  const doc = parseDocument(readFileSync(ALERTS, 'utf8'), { uniqueKeys: true });
  const rules = ((doc.toJS() as { groups: { name: string; rules: Rule[] }[] }).groups ?? []).flatMap((g) => g.rules);

  it('is well-formed: unique alert names, a severity, a summary, valid durations', () => {
    expect(doc.errors).toEqual([]);
    expect(rules.length).toBeGreaterThanOrEqual(8);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const r of rules) {
      expect(Object.keys(r).every((k) => ['alert', 'expr', 'for', 'labels', 'annotations'].includes(k)), r.alert).toBe(true);
      expect(typeof r.expr, r.alert).toBe('string');
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(typeof r.annotations?.summary, r.alert).toBe('string');
      if (r.for !== undefined) expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
    }
  });

  it('covers evidence, logs not advancing, lost peers, quorum at risk, store and clock faults, with the metrics of this node', () => {
    const used = new Set(rules.flatMap((r) => analyse(r.expr).selectors.map((s) => s.metric)));
    for (const m of ['witness_evidence_total', 'gossip_evidence_total', 'witness_log_latest_cosigned_timestamp_seconds', 'gossip_peers', 'gossip_log_agreeing_witnesses', 'witness_store_errors_total', 'witness_store_writable', 'witness_clock_behind_seconds']) expect(used, m).toContain(m);
  });

  it('every metric and label the rules select is exported by a started node (GET /metrics)', () => {
    const fams = families(exposition, node!);
    // The new gauges have samples on a node that cosigned something.
    expect(exposition).toMatch(new RegExp(`^witness_log_latest_cosigned_timestamp_seconds\\{origin="${log.origin}"\\} \\d+`, 'm'));
    expect(exposition).toMatch(new RegExp(`^gossip_log_agreeing_witnesses\\{origin="${log.origin}"\\} 0$`, 'm'));
    // Counters that alerts read with increase() exist at 0 before their first event.
    expect(exposition).toMatch(new RegExp(`^witness_evidence_total\\{origin="${log.origin}"\\} 0$`, 'm'));
    for (const via of ['detected', 'gossip', 'sync']) expect(exposition).toMatch(new RegExp(`^gossip_evidence_total\\{via="${via}"\\} 0$`, 'm'));
    expect(exposition).toMatch(/^witness_store_errors_total\{op="write"\} 0$/m);
    const found = rules.flatMap((r) => problems(r.expr, fams).map((p) => `${r.alert}: ${p}`));
    expect(found).toEqual([]);
  });

  it('the check itself catches unknown metrics, unknown labels and syntax errors', () => {
    const fams = families(exposition, node!);
    expect(problems('increase(witness_evidence_totl[5m]) > 0', fams)).toEqual(['metric witness_evidence_totl is not exported']);
    expect(problems('gossip_evidence_total{vai="x"} > 0', fams)).toEqual(['metric gossip_evidence_total has no label vai']);
    expect(problems('sum by (peer) (gossip_peers) > 0', fams)).toEqual(['grouping label peer is on none of the selected metrics']);
    expect(problems('sum(rate(witness_evidence_total[5m]) > 0', fams)).toContain('PromQL syntax error in "sum(rate(witness_evidence_total[5m]) > 0"');
    expect(problems('witness_request_duration_seconds_bucket{le="1"} > 0', fams)).toEqual([]);
  });
});
