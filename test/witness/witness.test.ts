// The transport-free witness core: tlog-witness rules, durability order, evidence, budgets.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog, type AddResult, type WitnessEvent } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, openNote, parseVkey, parseCosignatureVkey, generateKey, cosigner, cosignatureTimestamp, parseNote } from '../../src/note/index.js';
import { decodeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { verifyConsistency } from '../../src/merkle/proof.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';

const enc = (s: string) => new TextEncoder().encode(s);

function setup(opts: { qpd?: number; now?: () => number; keys?: ReturnType<typeof generateKey>[] } = {}) {
  const log = new TestLog('example.com/log');
  const store = new MemoryStore();
  const keys = opts.keys ?? [generateKey('witness.example/w1')];
  let t = 1_700_000_000n;
  const events: WitnessEvent[] = [];
  const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]), qpd: opts.qpd }]]);
  const witness = new Witness({ store, logs, cosigners: keys.map((k) => cosigner(k, () => t++)), onEvent: (e) => events.push(e), now: opts.now });
  const push = (old: bigint, note: string, proof: Uint8Array[] = []) => witness.addCheckpoint(enc(formatAddCheckpointBody(old, proof, note)));
  /** Pushes the log's current checkpoint with a real proof from `old`. */
  const advance = (l: TestLog, old: bigint) => push(old, l.checkpoint(), old === 0n ? [] : l.tree.consistencyProof(old, l.tree.size));
  return { log, store, keys, witness, events, push, advance };
}

function expectCosigned(r: AddResult): Extract<AddResult, { kind: 'cosigned' }> {
  if (r.kind !== 'cosigned') throw new Error(`expected cosigned, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return r;
}

describe('witness core (tlog-witness add-checkpoint)', () => {
  it('cosigns the first checkpoint with old 0, then advances with proofs', async () => {
    const { log, keys, advance, store } = setup();
    log.append(5);
    const r = expectCosigned(await advance(log, 0n));
    // 200 carries only the witness's own signature lines, which verify on the checkpoint text.
    expect(r.lines.split('\n').filter(Boolean)).toHaveLength(1);
    const text = log.checkpoint().slice(0, log.checkpoint().indexOf('\n\n') + 1);
    expect(openNote(text + '\n' + r.lines, [parseCosignatureVkey(keys[0].vkey)]).verified).toHaveLength(1);
    log.append(7);
    expectCosigned(await advance(log, 5n));
    const st = await store.getState(log.origin);
    expect(st?.size).toBe(12n);
    // The stored note is the full log-signed checkpoint; the cosigned one adds our lines.
    expect(openNote(st!.note, [parseVkey(log.key.vkey)]).text).toBe(parseNote(log.checkpoint()).text);
    expect(openNote(st!.cosigned, [parseVkey(log.key.vkey), parseCosignatureVkey(keys[0].vkey)]).verified).toHaveLength(2);
  });

  it('answers every rule of the spec table with the right code', async () => {
    const { log, push, advance } = setup();
    log.append(3);
    expect((await push(0n, 'garbage')).kind).toBe('rejected');
    expect(await push(0n, 'garbage')).toMatchObject({ code: 'malformed' });
    const other = new TestLog('example.com/other').append(1);
    expect(await push(0n, other.checkpoint())).toMatchObject({ code: 'unknown-log' });
    const forger = new TestLog('example.com/log', generateKey('example.com/log')).append(3);
    expect(await push(0n, forger.checkpoint())).toMatchObject({ code: 'bad-signature' });
    expect(await push(4n, log.checkpoint())).toMatchObject({ code: 'old-size-too-large' });
    expect(await push(0n, log.checkpoint(), [new Uint8Array(32)])).toMatchObject({ code: 'inconsistent' });
    expectCosigned(await advance(log, 0n));
    expect(await push(0n, log.checkpoint())).toMatchObject({ kind: 'stale', size: 3n });
    expect(await push(2n, log.checkpoint())).toMatchObject({ kind: 'stale', size: 3n });
    log.append(2);
    expect(await push(3n, log.checkpoint())).toMatchObject({ code: 'inconsistent' }); // missing proof
    const proof = log.tree.consistencyProof(3n, 5n);
    proof[0] = new Uint8Array(32).fill(1);
    expect(await push(3n, log.checkpoint(), proof)).toMatchObject({ code: 'inconsistent' });
    expect(await push(3n, log.checkpoint(3n), [new Uint8Array(32)])).toMatchObject({ code: 'inconsistent' }); // proof with old == size
  });

  it('size 0 must carry the empty-tree root', async () => {
    const { log, push } = setup();
    log.append(1);
    const bad = log.checkpoint(0n).replace(/\n0\n[^\n]+\n/, `\n0\n${Buffer.from(log.tree.root(1n)).toString('base64')}\n`);
    // Re-sign the tampered text so only the root rule fails.
    const { signNote } = await import('../../src/note/index.js');
    const resigned = signNote(bad.slice(0, bad.indexOf('\n\n') + 1), [log.key]);
    expect(await push(0n, resigned)).toMatchObject({ code: 'inconsistent' });
    expectCosigned(await push(0n, log.checkpoint(0n)));
  });

  it('a resubmitted identical checkpoint is cosigned again with a fresh timestamp', async () => {
    const { log, advance, push } = setup();
    log.append(4);
    const a = expectCosigned(await advance(log, 0n));
    const b = expectCosigned(await push(4n, log.checkpoint()));
    const ts = (r: typeof a) => cosignatureTimestamp(parseNote('x\n\n' + r.lines).signatures[0].sig);
    expect(ts(b)).toBeGreaterThan(ts(a));
    expect(b.advanced).toBe(false);
  });

  it('same size with a different root yields proven evidence and is refused', async () => {
    const { log, advance, push, store, events } = setup();
    log.append(6);
    expectCosigned(await advance(log, 0n));
    const evil = log.fork(2n).append(4, 'evil');
    expect(await push(6n, evil.checkpoint())).toMatchObject({ code: 'inconsistent' });
    const stored = await store.listEvidence(log.origin);
    expect(stored).toHaveLength(1);
    expect(verifyEvidence(stored[0].bytes, () => [parseVkey(log.key.vkey)]).ok).toBe(true);
    expect(decodeEvidence(stored[0].bytes).origin).toBe(log.origin);
    expect(events.some((e) => e.type === 'evidence')).toBe(true);
    // The witness keeps cosigning only its own branch.
    log.append(1);
    expectCosigned(await advance(log, 6n));
  });

  it('a failed proof is a suspect record, bounded and rate-limited, never evidence', async () => {
    const { log, advance, push, store } = setup();
    log.append(3);
    expectCosigned(await advance(log, 0n));
    const evil = log.fork(1n).append(9, 'evil');
    for (let i = 0; i < 50; i++) await push(3n, evil.checkpoint(), [new Uint8Array(32).fill(i)]);
    expect(await store.listEvidence()).toHaveLength(0);
    const suspects = await store.listSuspects(log.origin);
    expect(suspects.length).toBeGreaterThan(0);
    expect(suspects.length).toBeLessThanOrEqual(8); // rate limit: burst of 8 per origin
    expect(suspects[0]).toMatchObject({ origin: log.origin, oldSize: 3n });
  });

  it('never cosigns two inconsistent checkpoints under concurrency', async () => {
    const { log, witness, keys } = setup();
    log.append(2);
    const branches = [log, log.fork(1n).append(3, 'b1'), log.fork(1n).append(5, 'b2')];
    for (const b of branches.slice(1)) b.append(0);
    log.append(3);
    // Race many requests: all from old 0, and a second wave from every size.
    const reqs: Promise<AddResult>[] = [];
    for (let i = 0; i < 30; i++) {
      const b = branches[i % 3];
      reqs.push(witness.addCheckpoint(enc(formatAddCheckpointBody(0n, [], b.checkpoint(BigInt(1 + (i % Number(b.tree.size))))))));
    }
    const results = await Promise.all(reqs);
    const cosigned = results.filter((r) => r.kind === 'cosigned') as Extract<AddResult, { kind: 'cosigned' }>[];
    expect(cosigned).toHaveLength(1);
    const st = await witness.latest(log.origin);
    expect(st).toBeDefined();
    expect(openNote(st!.cosigned, [parseCosignatureVkey(keys[0].vkey)]).verified).toHaveLength(1);
  });

  it('concurrent advancing requests are all consistent with each other', async () => {
    const { log, witness } = setup();
    log.append(100);
    const sizes = Array.from({ length: 40 }, (_, i) => BigInt(i * 2 + 1));
    // Everyone claims old 0; exactly one wins, the rest are told the size (409) and follow it.
    const results: { size: bigint; root: Uint8Array }[] = [];
    await Promise.all(
      sizes.map(async (n) => {
        let old = 0n;
        for (let attempt = 0; attempt < 50; attempt++) {
          if (old > n) return;
          const r = await witness.addCheckpoint(enc(formatAddCheckpointBody(old, old === 0n || old === n ? [] : log.tree.consistencyProof(old, n), log.checkpoint(n))));
          if (r.kind === 'cosigned') return results.push({ size: n, root: r.checkpoint.root });
          if (r.kind === 'stale') old = r.size;
          else throw new Error(JSON.stringify(r));
        }
      }),
    );
    expect(results.length).toBeGreaterThan(1);
    const sorted = results.sort((a, b) => (a.size < b.size ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1], sorted[i]];
      expect(a.size === b.size || verifyConsistency(a.size, b.size, a.root, b.root, log.tree.consistencyProof(a.size, b.size))).toBe(true);
    }
  });

  it('cosigns with every configured key (rotation A, A+B, B)', async () => {
    const a = generateKey('witness.example/w1');
    const b = generateKey('witness.example/w1-2026');
    const { log, advance } = setup({ keys: [a, b] });
    log.append(2);
    const r = expectCosigned(await advance(log, 0n));
    const text = parseNote(log.checkpoint()).text;
    const both = openNote(text + '\n' + r.lines, [parseCosignatureVkey(a.vkey), parseCosignatureVkey(b.vkey)]);
    expect(both.verified.map((s) => s.name)).toEqual(['witness.example/w1', 'witness.example/w1-2026']);
  });

  it('qpd budget: only state-advancing requests consume it; replays never exhaust it', async () => {
    let now = 0;
    const { log, advance, push } = setup({ qpd: 24, now: () => now }); // 1 per hour, burst 1
    log.append(2);
    expectCosigned(await advance(log, 0n));
    for (let i = 0; i < 200; i++) expectCosigned(await push(2n, log.checkpoint()));
    log.append(1);
    const over = await advance(log, 2n);
    expect(over).toMatchObject({ kind: 'rejected', code: 'rate-limited' });
    expect((over as { retryAfter?: number }).retryAfter).toBeGreaterThan(0);
    now += 3600_000;
    expectCosigned(await advance(log, 2n));
  });

  it('stores the checkpoint text exactly as received, extension lines included', async () => {
    const { log, push, store } = setup();
    log.append(3);
    const note = log.checkpoint(3n, ['ext one', 'ext two']);
    expectCosigned(await push(0n, note));
    const st = await store.getState(log.origin);
    expect(parseCheckpoint(parseNote(st!.note).text).extensions).toEqual(['ext one', 'ext two']);
  });
});

describe('witness signature rule (tlog-witness main branch)', () => {
  it('403 when any line of a trusted key fails, even after a good line of the same key', async () => {
    const { log, push } = setup();
    log.append(2);
    const good = log.checkpoint();
    const sigLine = good.slice(good.indexOf('\n\n') + 2);
    // Flip a character in the middle of the signature (not the padding-adjacent one, whose low bits are unused).
    const at = sigLine.lastIndexOf(' ') + 40;
    const bad = sigLine.slice(0, at) + (sigLine[at] === 'A' ? 'B' : 'A') + sigLine.slice(at + 1);
    expect(bad).not.toBe(sigLine);
    expect(await push(0n, good + bad)).toMatchObject({ code: 'bad-signature' });
    expect(await push(0n, good.slice(0, good.indexOf('\n\n') + 2) + bad + sigLine)).toMatchObject({ code: 'bad-signature' });
    expectCosigned(await push(0n, good + sigLine)); // an identical repeated good line is fine
  });

  it('gives the same verdicts when concurrent requests verify signatures off the main thread', async () => {
    // With several add() calls in flight the witness verifies Ed25519 lines on the thread pool
    // first (preverify); the verdicts must be exactly those of the inline path.
    const { log, push } = setup();
    log.append(2);
    const good = log.checkpoint();
    const body = good.slice(0, good.indexOf('\n\n') + 2);
    const sigLine = good.slice(good.indexOf('\n\n') + 2);
    const at = sigLine.lastIndexOf(' ') + 40;
    const bad = sigLine.slice(0, at) + (sigLine[at] === 'A' ? 'B' : 'A') + sigLine.slice(at + 1);
    const forger = new TestLog('example.com/log', generateKey('example.com/log')).append(2).checkpoint();
    const cases: [string, string][] = [
      [good, 'cosigned'],
      [body + bad, 'bad-signature'],
      [good + bad, 'bad-signature'],
      [body + bad + sigLine, 'bad-signature'],
      [forger, 'bad-signature'],
      [good + sigLine, 'cosigned'],
    ];
    expectCosigned(await push(0n, good));
    for (let round = 0; round < 3; round++) {
      // old = size: the good notes are re-cosigned; the rest fail the signature check first.
      const results = await Promise.all(cases.map(([note]) => push(2n, note)));
      results.forEach((r, i) => {
        const want = cases[i][1];
        if (want === 'cosigned') expectCosigned(r);
        else expect(r, `case ${i}`).toMatchObject({ kind: 'rejected', code: want });
      });
    }
  });
});
