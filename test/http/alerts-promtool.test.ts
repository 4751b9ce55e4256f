// deploy/prometheus/alerts.yml against Prometheus itself: `promtool check rules` and the unit
// tests in deploy/prometheus/alerts.test.yml (first-event cases for evidence and store errors).
// Skipped with a printed reason without promtool (Debian's `prometheus` package,
// .ci/install-interop.sh); with INTEROP_REQUIRED=1 (CI) a missing promtool fails instead.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { commandMissing, describeWithTool, tool } from '../helpers/tools.js';

const DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const promtoolTool = tool('promtool', commandMissing('promtool', ['--version'], 'apt-get install prometheus, or .ci/install-interop.sh'));

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describeWithTool(promtoolTool, 'alert rules under promtool', () => {
  it('promtool check rules alerts.yml', () => {
    const r = promtool('check', 'rules', 'alerts.yml');
    expect(r.out).toContain('SUCCESS');
    expect(r.status, r.out).toBe(0);
  });

  it('promtool test rules alerts.test.yml (first-event cases included)', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });
});
