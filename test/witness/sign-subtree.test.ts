// POST /sign-subtree, the transport-free core (src/witness/sign-subtree.ts): every answer of
// c2sp.org/tlog-witness (C2SP 5ba5ee83), the order of the checks, statelessness, cache, rate limit.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog } from '../../src/witness/witness.js';
import { SubtreeSigner, type SubtreeResult } from '../../src/witness/sign-subtree.js';
import { formatSignSubtreeBody } from '../../src/witness/subtree-request.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, cosigner, generateKey, parseCosignatureVkey, parseNote, parseVkey, type Ed25519SignerKey } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed, parseMlDsa44Vkey, type MlDsa44Key } from '../../src/note/mldsa-keys.js';
import { subtreeConsistencyProof, subtreeHash } from '../../src/merkle/subtree.js';
import { readU64be } from '../../src/util/bytes.js';

const enc = (s: string) => new TextEncoder().encode(s);
const seed = (b: number) => new Uint8Array(32).fill(b);

interface Setup {
  log: TestLog;
  ed: Ed25519SignerKey;
  pq: MlDsa44Key;
  store: MemoryStore;
  witness: Witness;
  signer: SubtreeSigner;
  clock: { ms: number };
  /** The witness's add-checkpoint answer on the log's current checkpoint, as a note with only its own lines. */
  cosign(old: bigint): Promise<string>;
  body(start: bigint, end: bigint, reference: string, size?: bigint): Uint8Array;
}

function setup(opts: { origin?: string; name?: string; signers?: 'pq' | 'none'; cosigners?: 'both' | 'ed' | 'pq'; burst?: number; perSecond?: number } = {}): Setup {
  const log = new TestLog(opts.origin ?? 'example.com/log');
  const name = opts.name ?? 'witness.example/w1';
  const ed = generateKey(name);
  const pq = mlDsa44KeyFromSeed(name, seed(7));
  const store = new MemoryStore();
  const clock = { ms: 1_700_000_000_000 };
  const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
  const secs = () => BigInt(Math.floor(clock.ms / 1000));
  const which = opts.cosigners ?? 'both';
  const cosigners = [...(which !== 'pq' ? [cosigner(ed, secs)] : []), ...(which !== 'ed' ? [pq.cosigner(secs)] : [])];
  const witness = new Witness({ store, logs, cosigners, now: () => clock.ms });
  const ownKeys = [parseCosignatureVkey(ed.cosignatureVkey), parseCosignatureVkey(pq.vkey)];
  const signer = new SubtreeSigner({ logs, ownKeys, signers: opts.signers === 'none' ? [] : [pq], now: () => clock.ms, perClientBurst: opts.burst, perClientPerSecond: opts.perSecond });
  const cosign = async (old: bigint) => {
    const proof = old === 0n ? [] : log.tree.consistencyProof(old, log.tree.size);
    const r = await witness.addCheckpoint(enc(formatAddCheckpointBody(old, proof, log.checkpoint())));
    if (r.kind !== 'cosigned') throw new Error(`not cosigned: ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    // SPEC: the reference "SHOULD only include signatures from the witness's key(s)".
    return parseNote(log.checkpoint()).text + '\n' + r.lines;
  };
  const body = (start: bigint, end: bigint, reference: string, size = log.tree.size) =>
    enc(formatSignSubtreeBody(start, end, subtreeHash(start, end, log.tree.hasher), subtreeConsistencyProof(start, end, size, log.tree.hasher), reference));
  return { log, ed, pq, store, witness, signer, clock, cosign, body };
}

function expectSigned(r: SubtreeResult): Extract<SubtreeResult, { kind: 'signed' }> {
  if (r.kind !== 'signed') throw new Error(`expected signed, got ${JSON.stringify(r)}`);
  return r;
}

/** The answer's lines, each checked as a subtree/v1 signature by the key over the subtree, timestamp 0. */
function verifyLines(lines: string, pq: MlDsa44Key, s: { origin: string; start: bigint; end: bigint; hash: Uint8Array }): number {
  const sigs = parseNote(`x\n\n${lines}`).signatures;
  const v = parseMlDsa44Vkey(pq.vkey);
  for (const l of sigs) {
    expect(l.name).toBe(pq.name);
    expect(l.keyId).toBe(pq.keyId);
    expect(readU64be(l.sig, 0)).toBe(0n); // SPEC: "the timestamp MUST be zero"
    expect(v.verifySubtree(s, l.sig)).toBe(true);
  }
  return sigs.length;
}

describe('sign-subtree (c2sp.org/tlog-witness)', () => {
  it('200: subtree/v1 lines with timestamp 0 from the ML-DSA-44 key, for a reference cosigned by the witness', async () => {
    const t = setup();
    t.log.append(13);
    const ref = await t.cosign(0n);
    const r = expectSigned(await t.signer.signSubtree(t.body(8n, 13n, ref), 'c1'));
    expect(r.cached).toBe(false);
    expect(verifyLines(r.lines, t.pq, { origin: t.log.origin, start: 8n, end: 13n, hash: subtreeHash(8n, 13n, t.log.tree.hasher) })).toBe(1);
    // The whole tree and a single leaf are subtrees too.
    expectSigned(await t.signer.signSubtree(t.body(0n, 13n, ref), 'c1'));
    expectSigned(await t.signer.signSubtree(t.body(12n, 13n, ref), 'c1'));
  });

  it('400 for every invalid request: syntax, not a subtree (draft -03 §4.1), end beyond the checkpoint size', async () => {
    const t = setup();
    t.log.append(13);
    const ref = await t.cosign(0n);
    const code = async (b: Uint8Array | string) => {
      const r = await t.signer.signSubtree(typeof b === 'string' ? enc(b) : b, 'c');
      return r.kind === 'rejected' ? r.code : 'signed';
    };
    expect(await code('garbage')).toBe('malformed');
    expect(await code(`subtree 8 13\nnot-base64\n\n${ref}`)).toBe('malformed');
    expect(await code(junkBody(1n, 3n, ref))).toBe('malformed'); // start not a multiple of BIT_CEIL(2)
    expect(await code(junkBody(4n, 4n, ref))).toBe('malformed'); // empty: not a subtree in -03
    const bigger = t.log.tree.size;
    t.log.append(3);
    expect(await code(t.body(8n, 16n, ref, 16n))).toBe('malformed'); // end 16 > checkpoint size 13
    expect(bigger).toBe(13n);
  });

  it('422 when the subtree consistency proof (§4.4) does not verify; 404 for an unknown origin; 403 without a valid own cosignature', async () => {
    const t = setup();
    t.log.append(13);
    const ref = await t.cosign(0n);
    const good = new TextDecoder().decode(t.body(8n, 13n, ref));
    const lines = good.split('\n');
    lines[2] = Buffer.alloc(32, 1).toString('base64'); // first proof hash
    expect(await t.signer.signSubtree(enc(lines.join('\n')), 'c')).toMatchObject({ kind: 'rejected', code: 'inconsistent' });
    // Unknown origin: a log the witness does not follow (the witness key even cosigned it).
    const other = new TestLog('example.com/other').append(13);
    const otherRef = parseNote(other.checkpoint()).text + '\n' + `— ${t.ed.name} ` + parseNote(ref).signatures[0].base64 + '\n';
    const otherBody = enc(formatSignSubtreeBody(8n, 13n, subtreeHash(8n, 13n, other.tree.hasher), subtreeConsistencyProof(8n, 13n, 13n, other.tree.hasher), otherRef));
    expect(await t.signer.signSubtree(otherBody, 'c')).toMatchObject({ kind: 'rejected', code: 'unknown-log' });
    // 403: only the log's signature; another witness's cosignature; our own lines corrupted.
    expect(await t.signer.signSubtree(t.body(8n, 13n, t.log.checkpoint()), 'c')).toMatchObject({ kind: 'rejected', code: 'bad-signature' });
    const stranger = generateKey('witness.example/w1');
    const strangerRef = parseNote(t.log.checkpoint()).text + '\n' + signLine(stranger, parseNote(t.log.checkpoint()).textBytes);
    expect(await t.signer.signSubtree(t.body(8n, 13n, strangerRef), 'c')).toMatchObject({ kind: 'rejected', code: 'bad-signature' });
    expect(await t.signer.signSubtree(t.body(8n, 13n, corruptOwnLines(ref)), 'c')).toMatchObject({ kind: 'rejected', code: 'bad-signature' });
  });

  it('checks in the order the spec lists: 400, then 422, then 404, then 403', async () => {
    const t = setup();
    t.log.append(13);
    const other = new TestLog('example.com/other').append(13);
    const unknownUnsigned = other.checkpoint(); // unknown origin, and no cosignature of ours
    const badProof = (b: Uint8Array) => {
      const l = new TextDecoder().decode(b).split('\n');
      l[2] = Buffer.alloc(32, 9).toString('base64');
      return enc(l.join('\n'));
    };
    const otherBody = (start: bigint, end: bigint) => enc(formatSignSubtreeBody(start, end, subtreeHash(start, end, other.tree.hasher), subtreeConsistencyProof(start, end, 13n, other.tree.hasher), unknownUnsigned));
    // 400 and 422 and 404 and 403 at once: 400.
    expect(await t.signer.signSubtree(junkBody(1n, 3n, unknownUnsigned), 'c')).toMatchObject({ code: 'malformed' });
    // 422, 404 and 403: 422.
    expect(await t.signer.signSubtree(badProof(otherBody(8n, 13n)), 'c')).toMatchObject({ code: 'inconsistent' });
    // 404 and 403: 404.
    expect(await t.signer.signSubtree(otherBody(8n, 13n), 'c')).toMatchObject({ code: 'unknown-log' });
    // 422 and 403 on a followed log: 422.
    expect(await t.signer.signSubtree(badProof(t.body(8n, 13n, t.log.checkpoint())), 'c')).toMatchObject({ code: 'inconsistent' });
    // 403 alone.
    expect(await t.signer.signSubtree(t.body(8n, 13n, t.log.checkpoint()), 'c')).toMatchObject({ code: 'bad-signature' });
  });

  it('is stateless: an older reference than the stored one, and one never stored, both work; nothing is written', async () => {
    const t = setup();
    t.log.append(8);
    const old = await t.cosign(0n);
    t.log.append(5);
    await t.cosign(8n);
    const before = await t.store.getState(t.log.origin);
    expect(before?.size).toBe(13n);
    // The reference of size 8 is older than the stored 13.
    expectSigned(await t.signer.signSubtree(t.body(4n, 8n, old, 8n), 'c'));
    // A checkpoint the store never held, cosigned by our ML-DSA-44 key alone (as an MTC CA keeps it).
    t.log.append(3);
    const text = parseNote(t.log.checkpoint()).text;
    const only = text + '\n' + signLine(t.pq.cosigner(() => 1_700_000_100n), enc(text));
    expectSigned(await t.signer.signSubtree(t.body(0n, 16n, only), 'c'));
    const after = await t.store.getState(t.log.origin);
    expect(after).toEqual(before);
    expect(await t.store.origins()).toEqual([t.log.origin]);
    expect(await t.store.listSuspects(t.log.origin)).toEqual([]);
  });

  it('accepts a reference cosigned by only the Ed25519 key (both keys are own keys)', async () => {
    const t = setup({ cosigners: 'ed' });
    t.log.append(6);
    const ref = await t.cosign(0n);
    expectSigned(await t.signer.signSubtree(t.body(4n, 6n, ref), 'c'));
  });

  it('answers not-enabled (404) without an ML-DSA-44 key', async () => {
    const t = setup({ signers: 'none' });
    t.log.append(6);
    const ref = await t.cosign(0n);
    expect(t.signer.enabled).toBe(false);
    expect(await t.signer.signSubtree(t.body(4n, 6n, ref), 'c')).toMatchObject({ kind: 'rejected', code: 'not-enabled' });
  });

  it('accepts the cosigner and origin names MTC uses (oid/…)', async () => {
    const t = setup({ origin: 'oid/1.3.6.1.4.1.44363.47.1', name: 'oid/1.3.6.1.4.1.44363.47.2' });
    t.log.append(5);
    const ref = await t.cosign(0n);
    const r = expectSigned(await t.signer.signSubtree(t.body(4n, 5n, ref), 'c'));
    expect(verifyLines(r.lines, t.pq, { origin: t.log.origin, start: 4n, end: 5n, hash: subtreeHash(4n, 5n, t.log.tree.hasher) })).toBe(1);
    expect(r.lines.startsWith('— oid/1.3.6.1.4.1.44363.47.2 ')).toBe(true);
  });

  it('caches answers per (range, hash, reference) and rate-limits cache misses per client', async () => {
    const t = setup({ burst: 2, perSecond: 0.5 });
    t.log.append(16);
    const ref = await t.cosign(0n);
    const a = expectSigned(await t.signer.signSubtree(t.body(8n, 16n, ref), 'c1'));
    const again = expectSigned(await t.signer.signSubtree(t.body(8n, 16n, ref), 'c1'));
    expect(again.cached).toBe(true);
    expect(again.lines).toBe(a.lines);
    expectSigned(await t.signer.signSubtree(t.body(0n, 8n, ref), 'c1')); // second miss: burst used up
    const limited = await t.signer.signSubtree(t.body(12n, 16n, ref), 'c1');
    expect(limited).toMatchObject({ kind: 'rejected', code: 'rate-limited' });
    expect(limited.kind === 'rejected' && limited.retryAfter).toBeGreaterThanOrEqual(1);
    // Cached answers are still served; another client has its own budget.
    expect(expectSigned(await t.signer.signSubtree(t.body(8n, 16n, ref), 'c1')).cached).toBe(true);
    expectSigned(await t.signer.signSubtree(t.body(12n, 16n, ref), 'c2'));
    // The bucket refills with time.
    t.clock.ms += 2_000;
    expectSigned(await t.signer.signSubtree(t.body(14n, 16n, ref), 'c1'));
    // A rejected request is never cached: the same subtree with a reference we did not cosign.
    expect(await t.signer.signSubtree(t.body(8n, 16n, t.log.checkpoint()), 'c3')).toMatchObject({ code: 'bad-signature' });
  });

  it('keeps the cache bounded', async () => {
    const log = new TestLog('example.com/log');
    const pq = mlDsa44KeyFromSeed('w', seed(3));
    const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
    const signer = new SubtreeSigner({ logs, ownKeys: [parseCosignatureVkey(pq.vkey)], signers: [pq], cacheEntries: 3, perClientBurst: 100 });
    log.append(8);
    const text = parseNote(log.checkpoint()).text;
    const ref = text + '\n' + signLine(pq.cosigner(() => 5n), enc(text));
    for (let i = 0n; i < 8n; i++) {
      const body = enc(formatSignSubtreeBody(i, i + 1n, subtreeHash(i, i + 1n, log.tree.hasher), subtreeConsistencyProof(i, i + 1n, 8n, log.tree.hasher), ref));
      expectSigned(await signer.signSubtree(body, 'c'));
    }
    expect(signer.cachedAnswers).toBe(3);
  });
});

/** A body with a made-up hash and proof (for ranges that are not subtrees). */
function junkBody(start: bigint, end: bigint, reference: string): Uint8Array {
  return enc(formatSignSubtreeBody(start, end, new Uint8Array(32).fill(1), [new Uint8Array(32).fill(2)], reference));
}

function signLine(s: { name: string; keyId: number; sign(t: Uint8Array): Uint8Array }, text: Uint8Array): string {
  return `— ${s.name} ${Buffer.concat([Buffer.from([s.keyId >>> 24, (s.keyId >>> 16) & 255, (s.keyId >>> 8) & 255, s.keyId & 255]), Buffer.from(s.sign(text))]).toString('base64')}\n`;
}

/** The note with the last signature byte of each of its lines flipped. */
function corruptOwnLines(note: string): string {
  const p = parseNote(note);
  return (
    p.text +
    '\n' +
    p.signatures
      .map((l) => {
        const raw = Buffer.from(l.base64, 'base64');
        raw[raw.length - 1] ^= 1;
        return `— ${l.name} ${raw.toString('base64')}\n`;
      })
      .join('')
  );
}

// tlog-cosignature: "opaque log_origin<1..2^8-1>": a 404 (this witness cannot sign it), not a 500.
describe('an origin longer than a subtree/v1 cosignature can name', () => {
  it('404 for sign-subtree', async () => {
    const t = setup({ origin: `example.com/${'x'.repeat(300)}` });
    t.log.append(8);
    const reference = await t.cosign(0n); // the Ed25519 key alone cosigns it
    const r = await t.signer.signSubtree(t.body(0n, 4n, reference), 'c');
    expect(r).toMatchObject({ kind: 'rejected', code: 'unknown-log' });
    if (r.kind === 'rejected') expect(r.reason).toMatch(/at most 255/);
  });
});
