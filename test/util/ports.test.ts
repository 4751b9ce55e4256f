// freePort (src/util/ports.ts): ports handed to processes that listen later come from below the
// kernel's ephemeral range (where no connect() lands), are free, and never repeat in one process.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ephemeralRangeStart, freePort, LOW } from '../../src/util/ports.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('freePort', () => {
  it('reads the start of the ephemeral range, and says when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-ports-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'range'), '32768\t60999\n');
    expect(ephemeralRangeStart(join(dir, 'range'))).toBe(32768);
    writeFileSync(join(dir, 'bad'), 'x y\n');
    expect(ephemeralRangeStart(join(dir, 'bad'))).toBeUndefined();
    expect(ephemeralRangeStart(join(dir, 'missing'))).toBeUndefined();
  });

  it('gives distinct ports that can be listened on, below the ephemeral range where there is one', async () => {
    const start = ephemeralRangeStart();
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    if (start !== undefined && start - 20_000 >= 1000) for (const p of ports) expect(p).toBeLessThan(start);
    const s = createServer();
    await new Promise<void>((r) => s.listen(ports[0], '127.0.0.1', r));
    await new Promise((r) => s.close(r));
  });

  it('skips a port that something already listens on, and one it handed out before', async () => {
    const start = ephemeralRangeStart();
    if (start === undefined || start - LOW < 1000) return; // no room below the range: listen(0) decides
    const span = start - LOW;
    const at = (port: number) => (port - LOW + 0.5) / span; // the random() value that picks `port`
    const busy = createServer();
    const busyPort = await freePort();
    await new Promise<void>((r) => busy.listen(busyPort, '127.0.0.1', r));
    try {
      const given = await freePort();
      const seq = [at(busyPort), at(given), Math.random()];
      const p = await freePort('127.0.0.1', () => seq.shift() ?? Math.random());
      expect(p).not.toBe(busyPort);
      expect(p).not.toBe(given);
      expect(seq).toEqual([]); // both candidates were tried and refused
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});
