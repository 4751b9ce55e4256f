// deploy/prometheus/alerts.yml against Prometheus itself: `promtool check rules` and the unit
// tests in deploy/prometheus/alerts.test.yml (first-event cases for evidence and store errors).
// Skipped with a printed reason without promtool (Debian's `prometheus` package,
// .ci/install-interop.sh); with INTEROP_REQUIRED=1 (CI) a missing promtool fails instead.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8', timeout: 30_000 });
const why = probe.error || probe.status !== 0 ? `promtool not found (apt-get install prometheus, or .ci/install-interop.sh): ${probe.error?.message ?? probe.stderr}` : '';

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

if (!why) {
  describe('alert rules under promtool', () => {
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
} else if (process.env.INTEROP_REQUIRED === '1') {
  describe('alert rules under promtool (INTEROP_REQUIRED=1)', () => {
    it('has promtool', () => expect.fail(why));
  });
} else {
  console.warn(`skipping the promtool alert-rule tests: ${why}`);
  describe.skip(`alert rules under promtool (skipped: ${why})`, () => {
    it('needs promtool', () => {});
  });
}
