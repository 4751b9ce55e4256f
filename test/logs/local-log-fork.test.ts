// The local log equivocating: from the fork size N on, branch b is served (checkpoint, tiles,
// entries) to clients sending the fork header or connecting from a fork address, and pushed to
// the fork witnesses; each branch is internally consistent, and proofs across branches fail.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalLog, decodeEntryRecords, FORK_MARKER, type LocalLog } from '../../src/logs/local-log/index.js';
import { consistencyProofAsync, equalHashes, tilePath, tileSubtreeHasher, verifyConsistency, isPowerOfTwo } from '../../src/merkle/index.js';
import { openNote } from '../../src/note/note.js';
import { generateKey, parseVkey } from '../../src/note/keys.js';
import { concatBytes } from '../../src/util/bytes.js';
import { fetchCheckpoint, httpGet, httpTileFetcher, startTestWitness, type GetOptions, type TestWitnessNode } from './local-log-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-ll-fork-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startLog(opts: Parameters<typeof startLocalLog>[0]): Promise<LocalLog> {
  const l = await startLocalLog({ intervalMs: 0, ...opts });
  cleanups.push(() => l.stop());
  return l;
}
async function witness(name: string, log: { origin: string; vkey: string }): Promise<TestWitnessNode> {
  const w = await startTestWitness(name, log);
  cleanups.push(() => w.close());
  return w;
}

const HEADER = 'X-Fork-Branch';
const A: GetOptions = {};
const B_HEADER: GetOptions = { headers: { [HEADER]: 'b' } };
const B_ADDR: GetOptions = { localAddress: '127.0.0.2' };
const A_FORCED: GetOptions = { localAddress: '127.0.0.2', headers: { [HEADER]: 'a' } };

async function grow(log: LocalLog, to: number): Promise<void> {
  const from = Number(log.size('a'));
  await log.append(Array.from({ length: to - from }, (_, i) => `entry ${from + i}`));
  await log.publish();
}

const roots = (o: GetOptions, log: LocalLog) => fetchCheckpoint(log.url, log.vkey, o).then((c) => c.checkpoint);

describe.each([8, 13])('equivocation from size %i', (N) => {
  it(`serves branch b by header and address, pushes it to the fork witness, each branch consistent (N=${N}, power of two: ${isPowerOfTwo(BigInt(N))})`, async () => {
    const origin = `example.com/fork-${N}`;
    const key = generateKey(origin);
    const wa = await witness('witness.example/honest', { origin, vkey: key.vkey });
    const wb = await witness('witness.example/fooled', { origin, vkey: key.vkey });
    const log = await startLog({
      origin,
      key,
      forkAt: N,
      forkHeader: HEADER,
      forkAddrs: ['127.0.0.2'],
      witnesses: [
        { url: wa.url, vkey: wa.vkey },
        { url: wb.url, vkey: wb.vkey, branch: 'b' },
      ],
    });
    const rootA = new Map<bigint, Uint8Array>();
    const rootB = new Map<bigint, Uint8Array>();
    const record = async () => {
      const a = await roots(A, log);
      const b = await roots(B_HEADER, log);
      rootA.set(a.size, a.root);
      rootB.set(b.size, b.root);
      return { a, b };
    };

    // Before the fork size both views are the same checkpoint (each with its own witness).
    await grow(log, N - 2);
    let { a, b } = await record();
    expect(a.text).toBe(b.text);
    const m1 = BigInt(N + 3);
    await grow(log, N + 3);
    ({ a, b } = await record());
    expect(a.size).toBe(m1);
    expect(b.size).toBe(m1);
    expect(equalHashes(a.root, b.root)).toBe(false);
    await grow(log, 40);
    ({ a, b } = await record());
    expect(equalHashes(a.root, b.root)).toBe(false);

    // Who sees what: the header, the source address, and the header overriding the address.
    expect((await roots(B_ADDR, log)).root).toEqual(b.root);
    expect((await roots(A_FORCED, log)).root).toEqual(a.root);
    expect((await httpGet(`${log.url}/checkpoint`, B_HEADER)).headers.vary).toBe(HEADER);

    // Tiles: the same first N leaf hashes, different ones after; each view's tiles give its root.
    const tA = (await httpGet(`${log.url}/${tilePath(0, 0n, 40)}`, A)).body;
    const tB = (await httpGet(`${log.url}/${tilePath(0, 0n, 40)}`, B_ADDR)).body;
    expect(tA.subarray(0, 32 * N)).toEqual(tB.subarray(0, 32 * N));
    for (let i = N; i < 40; i++) expect(equalHashes(tA.subarray(32 * i, 32 * i + 32), tB.subarray(32 * i, 32 * i + 32))).toBe(false);
    for (const [o, root] of [[A, a.root], [B_HEADER, b.root], [B_ADDR, b.root]] as const) {
      expect(await tileSubtreeHasher(40n, httpTileFetcher(log.url, o))(0n, 40n)).toEqual(root);
    }
    // Entries: branch b's entries after the fork carry the marker.
    const eA = decodeEntryRecords((await httpGet(`${log.url}/tile/entries/000.p/40`, A)).body).entries;
    const eB = decodeEntryRecords((await httpGet(`${log.url}/tile/entries/000.p/40`, B_HEADER)).body).entries;
    expect(eB.slice(0, N)).toEqual(eA.slice(0, N));
    expect(eB[N]).toEqual(concatBytes(FORK_MARKER, eA[N]));

    // Consistency proofs from tiles: within a branch they verify; across branches they fail
    // from any size after the fork, and verify from sizes up to it (the shared prefix).
    const proofA = await consistencyProofAsync(m1, 40n, tileSubtreeHasher(40n, httpTileFetcher(log.url, A)));
    const proofB = await consistencyProofAsync(m1, 40n, tileSubtreeHasher(40n, httpTileFetcher(log.url, B_HEADER)));
    expect(verifyConsistency(m1, 40n, rootA.get(m1)!, rootA.get(40n)!, proofA)).toBe(true);
    expect(verifyConsistency(m1, 40n, rootB.get(m1)!, rootB.get(40n)!, proofB)).toBe(true);
    expect(verifyConsistency(m1, 40n, rootA.get(m1)!, rootB.get(40n)!, proofB)).toBe(false);
    expect(verifyConsistency(m1, 40n, rootB.get(m1)!, rootA.get(40n)!, proofA)).toBe(false);
    expect(verifyConsistency(m1, 40n, rootA.get(m1)!, rootB.get(40n)!, proofA)).toBe(false);
    const m0 = BigInt(N - 2);
    const proofB0 = await consistencyProofAsync(m0, 40n, tileSubtreeHasher(40n, httpTileFetcher(log.url, B_ADDR)));
    expect(verifyConsistency(m0, 40n, rootA.get(m0)!, rootB.get(40n)!, proofB0)).toBe(true);

    // The honest witness cosigned branch a, the fork witness branch b; each served checkpoint
    // carries only the cosignature of the witness that saw that branch.
    expect((await wa.node.store.getState(origin))?.root).toEqual(a.root);
    expect((await wb.node.store.getState(origin))?.root).toEqual(b.root);
    const servedA = (await fetchCheckpoint(log.url, log.vkey, A)).note;
    const servedB = (await fetchCheckpoint(log.url, log.vkey, B_ADDR)).note;
    expect(openNote(servedA, [parseVkey(log.vkey), parseVkey(wa.vkey), parseVkey(wb.vkey)]).verified.map((s) => s.name)).toEqual([origin, 'witness.example/honest']);
    expect(openNote(servedB, [parseVkey(log.vkey), parseVkey(wa.vkey), parseVkey(wb.vkey)]).verified.map((s) => s.name)).toEqual([origin, 'witness.example/fooled']);

    // Branch b can grow on its own (whichever branch is larger), staying consistent.
    await log.append(['only b 1', 'only b 2', 'only b 3'], { branch: 'b' });
    await log.publish();
    const b43 = await roots(B_HEADER, log);
    expect(b43.size).toBe(43n);
    expect((await roots(A, log)).size).toBe(40n);
    const p = await consistencyProofAsync(40n, 43n, tileSubtreeHasher(43n, httpTileFetcher(log.url, B_HEADER)));
    expect(verifyConsistency(40n, 43n, rootB.get(40n)!, b43.root, p)).toBe(true);
    expect((await wb.node.store.getState(origin))?.size).toBe(43n);

    // The fooled witness, later shown branch a, refuses it.
    log.setWitnessBranch(wb.url, 'a');
    await log.publish();
    const st = log.witnesses().find((w) => w.url === wb.url)!;
    // It holds 43 > 40: the log does not even ask. A larger branch a is refused with 422.
    expect(st.lastOutcome).toEqual({ kind: 'ahead', witnessSize: 43n, retries: 0 });
    await grow(log, 50);
    const st2 = log.witnesses().find((w) => w.url === wb.url)!;
    expect(st2.lastOutcome).toMatchObject({ kind: 'failed', status: 422 });
    expect((await wb.node.store.getState(origin))?.root).toEqual(b43.root);
    const recorded = (await wb.node.store.listSuspects(origin)).length + (await wb.node.store.listEvidence(origin)).length;
    expect(recorded).toBeGreaterThan(0);
    expect((await wa.node.store.getState(origin))?.size).toBe(50n);
  });
});

describe('forking at run time and across restarts', () => {
  it('forks an existing log at a smaller size, and keeps the fork after a restart', async () => {
    const d = join(dir, 'runtime');
    const key = generateKey('example.com/runtime');
    let log = await startLog({ origin: 'example.com/runtime', key, dir: d, forkHeader: HEADER });
    await grow(log, 20);
    const before = await roots(A, log);
    // Not forked yet: the header changes nothing, and branch b cannot be appended to.
    expect((await roots(B_HEADER, log)).root).toEqual(before.root);
    await expect(log.append(['x'], { branch: 'b' })).rejects.toThrow(/not forked/);
    log.forkAt(16);
    expect(log.forkSize).toBe(16n);
    const b20 = await roots(B_HEADER, log);
    expect(b20.size).toBe(20n);
    expect(equalHashes(b20.root, before.root)).toBe(false); // two signed checkpoints of size 20
    expect(() => log.forkAt(12)).toThrow(/already forked/);
    await grow(log, 30);
    const a30 = await roots(A, log);
    const b30 = await roots(B_HEADER, log);
    await log.stop();
    cleanups.length = 0;

    await expect(startLocalLog({ origin: 'example.com/runtime', key, dir: d, forkAt: 10, intervalMs: 0 })).rejects.toThrow(/forked at 16/);
    log = await startLog({ origin: 'example.com/runtime', key, dir: d, forkHeader: HEADER });
    expect(log.forkSize).toBe(16n);
    expect((await roots(A, log)).root).toEqual(a30.root);
    expect((await roots(B_HEADER, log)).root).toEqual(b30.root);
    // Branch b's tiles are also in <dir>/branch-b.
    const { readFileSync } = await import('node:fs');
    expect(new Uint8Array(readFileSync(join(d, 'branch-b', tilePath(0, 0n, 30))))).toEqual((await httpGet(`${log.url}/${tilePath(0, 0n, 30)}`, B_HEADER)).body);
    // One-branch appends are refused before the fork size (the prefix must stay shared).
    const early = await startLog({ origin: 'example.com/early', forkAt: 5 });
    await early.append(['1', '2']);
    await expect(early.append(['3'], { branch: 'a' })).rejects.toThrow(/fork size 5/);
  });
});
