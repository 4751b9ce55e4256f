// The local log signing with ML-DSA-44 (keyType 'ml-dsa-44', `log serve --key-type ml-dsa-44`):
// its checkpoints open with its 0x06 vkey, a client policy listing that key verifies them, a real
// witness node configured with the 0x06 log key cosigns them, and key files keep their type.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalLog, type LocalLog } from '../../src/logs/local-log/index.js';
import { generateKey, openNote, parseNote, parseVkey } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed, parseMlDsa44Skey } from '../../src/note/mldsa-keys.js';
import { MLDSA44, mlDsa44Timestamp } from '../../src/note/sigtypes/mldsa44.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { fetchCheckpoint, startTestWitness, waitFor, type TestWitnessNode } from './local-log-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startLog(opts: Parameters<typeof startLocalLog>[0]): Promise<LocalLog> {
  const l = await startLocalLog({ intervalMs: 0, ...opts });
  cleanups.push(() => l.stop());
  return l;
}

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'll-mldsa-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

describe('a local log with an ML-DSA-44 key', () => {
  it('signs 0x06 checkpoints that open with its vkey and verify under a client policy', async () => {
    const log = await startLog({ origin: 'pq.example/log', keyType: 'ml-dsa-44' });
    const v = parseVkey(log.vkey);
    expect(v.type).toBe(MLDSA44);
    expect(v.name).toBe('pq.example/log');
    await log.append(['a', 'b', 'c']);
    const before = BigInt(Math.floor(Date.now() / 1000));
    await log.publish();
    const { note, checkpoint } = await fetchCheckpoint(log.url, log.vkey);
    expect(checkpoint.size).toBe(3n);
    const opened = openNote(note, [v]);
    expect(opened.verified).toHaveLength(1);
    // Timestamped with the signing time.
    const ts = mlDsa44Timestamp(opened.verified[0].sig)!;
    expect(ts >= before - 1n && ts <= BigInt(Math.floor(Date.now() / 1000)) + 1n).toBe(true);
    const policy = parsePolicy(`log ${log.vkey}\nquorum none\n`, { strict: true });
    expect(verifyCosignedCheckpoint(note, policy)).toMatchObject({ ok: true, logVerified: true, extensionsAuthenticated: true });
    // Another ML-DSA key of the same name does not verify it.
    const other = mlDsa44KeyFromSeed('pq.example/log', new Uint8Array(32).fill(5));
    expect(verifyCosignedCheckpoint(note, parsePolicy(`log ${other.vkey}\nquorum none\n`))).toMatchObject({ ok: false, code: 'log-signature' });
  });

  it('a real witness configured with the 0x06 log key cosigns it; a policy over both verifies k-of-n', { timeout: 30_000 }, async () => {
    const key = mlDsa44KeyFromSeed('pq.example/pushed', new Uint8Array(32).fill(7));
    const probe = await startLog({ origin: 'pq.example/pushed', key });
    const logVkey = probe.vkey;
    expect(logVkey).toBe(key.vkey);
    await probe.stop();
    let w: TestWitnessNode;
    try {
      w = await startTestWitness('witness.example/pq1', { origin: 'pq.example/pushed', vkey: logVkey });
    } catch (e) {
      throw new Error(`the witness does not accept a 0x06 log vkey in its config: ${(e as Error).message}`);
    }
    cleanups.push(() => w.close());
    const log = await startLog({ origin: 'pq.example/pushed', key, witnesses: [{ url: w.url, vkey: w.vkey }] });
    await log.append(['x', 'y', 'z', 'w']);
    await log.publish();
    const note = await waitFor('a cosigned checkpoint', async () => {
      const { note } = await fetchCheckpoint(log.url, log.vkey);
      return parseNote(note).signatures.length >= 2 ? note : undefined;
    });
    const policy = parsePolicy(`log ${log.vkey}\nwitness w1 ${w.vkey}\nquorum w1\n`);
    expect(verifyCosignedCheckpoint(note, policy, { maxAge: 600 })).toMatchObject({ ok: true, cosigners: ['w1'] });
  });

  it('key files: created 0600 with the asked type, reused with theirs, a mismatch refused', async () => {
    const d = tmp();
    const file = join(d, 'log.key');
    const a = await startLog({ origin: 'pq.example/file', keyFile: file, keyType: 'ml-dsa-44' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parseMlDsa44Skey(readFileSync(file, 'utf8').trim()).vkey).toBe(a.vkey);
    await a.stop();
    // Reopened without a type: the file decides.
    const b = await startLog({ origin: 'pq.example/file', keyFile: file });
    expect(b.vkey).toBe(a.vkey);
    await b.stop();
    await expect(startLocalLog({ origin: 'pq.example/file', keyFile: file, keyType: 'ed25519', intervalMs: 0 })).rejects.toThrow(/ML-DSA-44 key, but the key type asked for is ed25519/);
    // An Ed25519 file with ml-dsa-44 asked: refused too; default stays Ed25519.
    const edFile = join(d, 'ed.key');
    const c = await startLog({ origin: 'ed.example/file', keyFile: edFile });
    expect(parseVkey(c.vkey).type).toBe(0x01);
    await c.stop();
    await expect(startLocalLog({ origin: 'ed.example/file', keyFile: edFile, keyType: 'ml-dsa-44', intervalMs: 0 })).rejects.toThrow(/Ed25519 key, but the key type asked for is ml-dsa-44/);
    // skey strings and key objects of either type.
    const pq = mlDsa44KeyFromSeed('pq.example/str', new Uint8Array(32).fill(3));
    const s1 = await startLog({ origin: 'pq.example/str', key: pq.skey });
    expect(s1.vkey).toBe(pq.vkey);
    const ed = generateKey('ed.example/str');
    const s2 = await startLog({ origin: 'ed.example/str', key: ed.skey });
    expect(s2.vkey).toBe(ed.vkey);
  });
});
