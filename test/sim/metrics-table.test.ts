// The readable metrics table (issue 16: "a raw dump of keys without units or explanations"):
// every metric the simulator reports has a unit and an explanation, values print in their unit,
// the HTML report and `gossip-witness simulate`'s stdout show them, and metrics.csv keeps raw values.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { flatMetrics } from '../../src/sim/report/index.js';
import { formatMetric, metricInfo, metricsText } from '../../src/sim/report/metrics.js';
import { registerSimulate } from '../../src/cli/simulate.js';
import { syntheticRun } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-sim-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('simulator metrics table', () => {
  it('every metric key has a unit and an explanation', () => {
    const keys = Object.keys(flatMetrics(syntheticRun(1)));
    expect(keys.length).toBeGreaterThan(20);
    const missing = keys.filter((k) => !metricInfo(k) || metricInfo(k)!.text.length < 5);
    expect(missing).toEqual([]);
    expect(metricInfo('no.such.metric')).toBeNull();
    expect(metricInfo('detection.within.60000')!.text).toContain('within 1 min');
  });

  it('formats values in their units', () => {
    expect(formatMetric('detection.allMs', 1234)).toBe('1.23 s');
    expect(formatMetric('detection.firstMs', 52)).toBe('52.0 ms');
    expect(formatMetric('traffic.bytesPerNodePerHour', 105_556_803)).toBe('106 MB/h');
    expect(formatMetric('traffic.bytesPerNodePerHour', 2.5e9)).toBe('2.50 GB/h');
    expect(formatMetric('detection.fractionDetected', 0.5)).toBe('50.0 %');
    expect(formatMetric('traffic.messagesPerNodePerHour', 163620)).toBe('163,620 /h');
    expect(formatMetric('detection.allMs', null)).toBe('—');
    const text = metricsText({ 'detection.allMs': 1234, 'clients.total': 7 }, 80);
    expect(text.split('\n')[0]).toMatch(/^metric\s+value\s+meaning$/);
    expect(text).toMatch(/^detection\.allMs\s+1\.23 s\s+fork → the last honest witness/m);
    for (const line of text.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('simulate prints the table; index.html has units and meanings; metrics.csv keeps raw values', async () => {
    const out = join(dir, 'run');
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (writes.push(String(s)), true));
    try {
      const program = new Command().exitOverride();
      registerSimulate(program);
      await program.parseAsync(['node', 'gossip-witness', 'simulate', join(__dirname, '../../network-config/scenarios/small.yaml'), '--out', out]);
    } finally {
      spy.mockRestore();
    }
    const stdout = writes.join('');
    expect(stdout).toMatch(/^detection: first /m);
    expect(stdout).toMatch(/^traffic\.bytesPerNodePerHour\s+[\d.]+ (kB|MB|GB)\/h\s+bytes sent per witness per hour/m);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<th>unit</th><th>meaning</th>');
    expect(html).toMatch(/<td>detection\.allMs<\/td><td>[\d.]+ ms<\/td><td>[\d.]+<\/td><td>ms<\/td><td>fork → the last honest witness/);
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(readFileSync(join(out, 'metrics.csv'), 'utf8')).toContain(`traffic.bytesPerNodePerHour,${r.traffic.bytesPerNodePerHour}`);
  });
});
