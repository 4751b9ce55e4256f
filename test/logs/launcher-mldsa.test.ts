// The launcher's network config with an ML-DSA-44 log (`keyType: ml-dsa-44`): prepareNetwork
// writes a 0x06 log key (kept on a second run), the generated witness configs list its 0x06 vkey
// and load, and the prepared key runs a local log whose checkpoints a real witness node cosigns.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNetworkConfig, prepareNetwork, NetworkConfigError } from '../../src/launcher/index.js';
import { loadConfig } from '../../src/config.js';
import { startLocalLog } from '../../src/logs/local-log/index.js';
import { parseNote, parseVkey } from '../../src/note/index.js';
import { parseMlDsa44Skey } from '../../src/note/mldsa-keys.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { fetchCheckpoint, startTestWitness, waitFor } from './local-log-helpers.js';

const NETWORK = `
logs:
  - { name: pq, interval: 100ms, keyType: ml-dsa-44 }
  - { name: ed, interval: 100ms }
witnesses:
  - { name: w1 }
  - { name: w2 }
`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('launcher: a log with keyType ml-dsa-44', () => {
  it('parses keyType (absent for Ed25519 logs) and refuses other values', () => {
    const n = parseNetworkConfig(NETWORK);
    expect(n.logs.map((l) => l.keyType)).toEqual(['ml-dsa-44', undefined]);
    expect(() => parseNetworkConfig(NETWORK.replace('ml-dsa-44', 'rsa'))).toThrow(NetworkConfigError);
    expect(() => parseNetworkConfig(NETWORK.replace('ml-dsa-44', 'rsa'))).toThrow(/logs.0.keyType: must be ed25519 or ml-dsa-44/);
  });

  it('prepareNetwork writes a 0x06 log key that witness configs list; the log runs with it', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-launch-pq-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await prepareNetwork({ network: parseNetworkConfig(NETWORK), dir });
    const [pq, ed] = first.logs;
    expect(parseVkey(pq.key.vkey).type).toBe(0x06);
    expect(parseVkey(ed.key.vkey).type).toBe(0x01);
    expect(statSync(pq.keyFile).mode & 0o777).toBe(0o600);
    expect(parseMlDsa44Skey(readFileSync(pq.keyFile, 'utf8').trim()).vkey).toBe(pq.key.vkey);
    for (const w of first.witnesses) {
      const c = loadConfig(w.configFile);
      expect(c.logs.map((l) => l.vkeys)).toEqual([[pq.key.vkey], [ed.key.vkey]]);
    }
    const second = await prepareNetwork({ network: parseNetworkConfig(NETWORK), dir });
    expect(second.logs[0].key.vkey).toBe(pq.key.vkey);

    // The prepared key signs the log's checkpoints; a witness following the 0x06 key cosigns them.
    const w = await startTestWitness('witness.example/launch-pq', { origin: pq.origin, vkey: pq.key.vkey });
    cleanups.push(() => w.close());
    const log = await startLocalLog({ origin: pq.origin, key: pq.key, intervalMs: 0, witnesses: [{ url: w.url, vkey: w.vkey }] });
    cleanups.push(() => log.stop());
    expect(log.vkey).toBe(pq.key.vkey);
    await log.append(['one', 'two']);
    await log.publish();
    const note = await waitFor('a cosigned checkpoint', async () => {
      const { note } = await fetchCheckpoint(log.url, log.vkey);
      return parseNote(note).signatures.length === 2 ? note : undefined;
    });
    expect(verifyCosignedCheckpoint(note, parsePolicy(`log ${pq.key.vkey}\nwitness w ${w.vkey}\nquorum w\n`))).toMatchObject({ ok: true });
  });
});
