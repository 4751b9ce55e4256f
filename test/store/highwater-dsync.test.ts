// CPU (issue 14): the high-water journal's append is one write() on a descriptor opened O_DSYNC
// (durable when write() returns), not write() + fdatasync(). Checked on Linux through
// /proc/self/fdinfo, whose flags line shows how the descriptor was opened.
import { afterAll, describe, expect, it } from 'vitest';
import { constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HighwaterJournal, readHighwater } from '../../src/store/highwater.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-hw-dsync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('high-water journal descriptor', () => {
  it.runIf(process.platform === 'linux')('is opened O_DSYNC and O_APPEND; appends read back', async () => {
    const logs = new Map([['example.com/log', { size: 5n, root: new Uint8Array(32).fill(1), ts: 1700000000 }]]);
    const j = await HighwaterJournal.rewrite(dir, 0, logs);
    try {
      expect(j.dsync).toBe(true);
      const fd = (j as unknown as { fh: { fd: number } }).fh.fd;
      const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1], 8);
      expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
      expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
      await j.append(1, new Map([['example.com/log', { size: 6n, root: new Uint8Array(32).fill(2), ts: 1700000001 }]]));
    } finally {
      await j.close();
    }
    const r = await readHighwater(dir);
    expect(r?.seq).toBe(1);
    expect(r?.logs.get('example.com/log')?.size).toBe(6n);
  });
});
