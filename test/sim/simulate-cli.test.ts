// `gossip-witness simulate`: writes result.json (+ the report), records the command, validates
// its arguments with usage errors.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerSimulate } from '../../src/cli/simulate.js';
import { UsageError } from '../../src/cli/errors.js';
import type { RunResult } from '../../src/sim/result.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SMALL = join(__dirname, '../../network-config/scenarios/small.yaml');

async function simulate(...args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerSimulate(program);
  await program.parseAsync(['node', 'gossip-witness', 'simulate', ...args]);
}

describe('gossip-witness simulate', () => {
  it('writes result.json with the seed and scenario', async () => {
    const out = join(dir, 'run');
    await simulate(SMALL, '--out', out, '--seed', '9');
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(r.provenance.seed).toBe(9);
    expect(r.provenance.mode).toBe('model');
    expect(r.provenance.scenarioFile).toBe(SMALL);
    expect((r.provenance.scenario as { name: string }).name).toBe('small');
    expect(r.detection.fractionDetected).toBe(1);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  });

  it('reports scenario and argument errors as usage errors', async () => {
    await expect(simulate(join(dir, 'missing.yaml'), '--out', join(dir, 'x'))).rejects.toThrow(UsageError);
    await expect(simulate(SMALL, '--out', join(dir, 'x'), '--seed', 'abc')).rejects.toThrow(/--seed must be a non-negative integer/);
    await expect(simulate(SMALL, '--out', join(dir, 'x'), '--sweep', 'nodes')).rejects.toThrow(/--sweep must be param=v1,v2/);
  });
});
