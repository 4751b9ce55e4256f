// ML-DSA-44 (signature type 0x06) on the client side: witness vkeys of type 0x06 for
// parseCosignatureVkey, tlog-policy and Sigsum policies listing 0x06 witness and log keys, k-of-n
// evaluation with both kinds of line, the timestamp-0 rule for maxAge (docs/client.md), extension
// lines under a 0x06 log signature, and evidence made from 0x06-signed checkpoints.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gatherCosignatures, parsePolicy, verifyCosignedCheckpoint, PolicyError } from '../../src/policy/index.js';
import { FakeWitnesses } from './helpers.js';
import { formatReport } from '../../src/cli/verify.js';
import {
  cosignatureLineTimestamp,
  cosigner,
  generateKey,
  KeyError,
  openNote,
  parseCosignatureVkey,
  parseNote,
  parseVkey,
  signatureLines,
  signNote,
  type Ed25519SignerKey,
  type Signer,
} from '../../src/note/index.js';
import { mlDsa44KeyFromSeed, type MlDsa44Key } from '../../src/note/mldsa-keys.js';
import { MLDSA44, TIMESTAMPED_MLDSA44_SIZE } from '../../src/note/sigtypes/mldsa44.js';
import { formatCheckpoint, parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { decodeEvidence, encodeEvidence, makeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { toHex } from '../../src/util/bytes.js';
import { readFileSync } from 'node:fs';

const seed = (n: number) => new Uint8Array(32).fill(n);
const T = 1_700_000_000n;

// Fixed seeds: keys are reproducible (ML-DSA-44 key generation from a seed is deterministic).
const pqWitness = mlDsa44KeyFromSeed('pq.witness.example/w1', seed(1));
const pqWitness2 = mlDsa44KeyFromSeed('pq2.witness.example', seed(2));
const pqLogKey = mlDsa44KeyFromSeed('pq.example/log', seed(3));
const edWitness = generateKey('ed.witness.example');
const edLog = generateKey('ed.example/log');

function tree(n: number, tag = 'leaf'): MemoryTree {
  const t = new MemoryTree();
  for (let i = 0; i < n; i++) t.append(new TextEncoder().encode(`${tag} ${i}`));
  return t;
}

function checkpointText(origin: string, t: MemoryTree, extensions: string[] = []): string {
  return formatCheckpoint({ origin, size: t.size, root: t.root(t.size), extensions });
}

/** A note signed by the log signer, plus witness lines (Ed25519 via cosigner(), ML-DSA via cosigner(clock)). */
function cosigned(text: string, logSigner: Signer, witnesses: Signer[]): string {
  const note = signNote(text, [logSigner]);
  return note + signatureLines(parseNote(note).textBytes, witnesses);
}

const pqCosigner = (k: MlDsa44Key, ts: bigint): Signer => (ts === 0n ? k.logSigner(() => 0n) : k.cosigner(() => ts));
const edCosigner = (k: Ed25519SignerKey, ts: bigint): Signer => cosigner(k, () => ts);

describe('parseCosignatureVkey with 0x06 witness keys', () => {
  it('accepts a 0x06 vkey as is; its line verifies as a subtree/v1 cosignature [0, size)', () => {
    const v = parseCosignatureVkey(pqWitness.vkey);
    expect(v.type).toBe(MLDSA44);
    expect(v.vkey).toBe(pqWitness.vkey);
    expect(v.keyId).toBe(parseVkey(pqWitness.vkey).keyId);
    const text = checkpointText('pq.example/log', tree(5));
    const note = cosigned(text, edLog, [pqCosigner(pqWitness, T)]);
    const opened = openNote(note, [v]);
    expect(opened.verified).toHaveLength(1);
    expect(cosignatureLineTimestamp(MLDSA44, opened.verified[0].sig)).toBe(T);
    expect(opened.verified[0].sig.length).toBe(TIMESTAMPED_MLDSA44_SIZE);
  });

  it('Ed25519 witness keys are unchanged (0x01 -> 0x04), other types are still refused', () => {
    expect(parseCosignatureVkey(edWitness.vkey).vkey).toBe(edWitness.cosignatureVkey);
    expect(parseCosignatureVkey(edWitness.cosignatureVkey).type).toBe(0x04);
    expect(parseCosignatureVkey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8').type).toBe(0x04); // a published 0x01 key
    // An RFC 6962 (0x05) key is a log key, never a witness key.
    expect(() => parseCosignatureVkey('rekor.sigstore.dev+c0d23d6a+BTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=')).toThrow(
      KeyError,
    );
  });

  it('cosignatureLineTimestamp: first 8 bytes for 0x04 (72 bytes) and 0x06 (2428 bytes), null otherwise', () => {
    const sig72 = new Uint8Array(72);
    sig72[7] = 9;
    expect(cosignatureLineTimestamp(0x04, sig72)).toBe(9n);
    expect(cosignatureLineTimestamp(0x06, sig72)).toBeNull();
    const sigPq = new Uint8Array(TIMESTAMPED_MLDSA44_SIZE);
    sigPq[7] = 7;
    expect(cosignatureLineTimestamp(0x06, sigPq)).toBe(7n);
    expect(cosignatureLineTimestamp(0x04, sigPq)).toBeNull();
    expect(cosignatureLineTimestamp(0x01, new Uint8Array(64))).toBeNull();
  });
});

describe('policies with 0x06 keys', () => {
  const t = tree(10);
  const edText = checkpointText(edLog.name, t);
  const pqText = checkpointText(pqLogKey.name, t);

  it('tlog-policy: an Ed25519 log, one Ed25519 and two ML-DSA-44 witnesses, 2 of 3', () => {
    const policy = parsePolicy(
      [`log ${edLog.vkey}`, `witness ed ${edWitness.vkey}`, `witness pq ${pqWitness.vkey}`, `witness pq2 ${pqWitness2.vkey}`, 'group g 2 ed pq pq2', 'quorum g', ''].join('\n'),
      { strict: true },
    );
    expect(policy.witnesses.map((w) => w.verifier?.type)).toEqual([0x04, 0x06, 0x06]);
    expect(policy.witnesses[1].publicKey.length).toBe(1312);
    const two = cosigned(edText, edLog, [edCosigner(edWitness, T), pqCosigner(pqWitness, T + 1n)]);
    const v = verifyCosignedCheckpoint(two, policy, { exhaustive: true });
    expect(v).toMatchObject({ ok: true, cosigners: ['ed', 'pq'] });
    expect(v.witnesses.map((w) => [w.status, w.timestamp])).toEqual([
      ['verified', T],
      ['verified', T + 1n],
      ['absent', undefined],
    ]);
    // Only one ML-DSA line: 1 of 3.
    const one = cosigned(edText, edLog, [pqCosigner(pqWitness2, T)]);
    expect(verifyCosignedCheckpoint(one, policy)).toMatchObject({ ok: false, code: 'quorum' });
  });

  it('a corrupted ML-DSA cosignature counts as absent (the checkpoint is not rejected)', () => {
    const policy = parsePolicy(`log ${edLog.vkey}\nwitness pq ${pqWitness.vkey}\nwitness pq2 ${pqWitness2.vkey}\ngroup g 1 pq pq2\nquorum g\n`);
    const note = cosigned(edText, edLog, [pqCosigner(pqWitness, T), pqCosigner(pqWitness2, T)]);
    const lines = note.split('\n');
    // Flip one base64 character in the middle of pq's signature line.
    const i = lines.findIndex((l) => l.startsWith(`\u2014 ${pqWitness.name} `));
    const mid = Math.floor(lines[i].length / 2);
    lines[i] = lines[i].slice(0, mid) + (lines[i][mid] === 'A' ? 'B' : 'A') + lines[i].slice(mid + 1);
    const v = verifyCosignedCheckpoint(lines.join('\n'), policy, { exhaustive: true });
    expect(v).toMatchObject({ ok: true, cosigners: ['pq2'] });
    expect(v.witnesses[0].status).toBe('invalid');
  });

  it('tlog-policy: an ML-DSA-44 (0x06) log key verifies the log signature; a wrong one rejects', () => {
    const policy = parsePolicy(`log ${pqLogKey.vkey}\nwitness ed ${edWitness.vkey}\nquorum ed\n`, { strict: true });
    expect(policy.logs[0]).toMatchObject({ origin: pqLogKey.name });
    expect(policy.logs[0].verifier.type).toBe(MLDSA44);
    for (const logTs of [0n, T]) {
      const note = cosigned(pqText, pqLogKey.logSigner(() => logTs), [edCosigner(edWitness, T)]);
      expect(verifyCosignedCheckpoint(note, policy)).toMatchObject({ ok: true, cosigners: ['ed'], logVerified: true });
    }
    // Signed by another ML-DSA key under the same name: the key ID differs, no log signature.
    const other = mlDsa44KeyFromSeed(pqLogKey.name, seed(9));
    expect(verifyCosignedCheckpoint(cosigned(pqText, other.logSigner(), []), policy)).toMatchObject({ ok: false, code: 'log-signature' });
    // Another checkpoint under the log's signature line: the 0x06 signature covers size and root.
    const note = signNote(pqText, [pqLogKey.logSigner()]);
    const moved = note.replace(`\n10\n`, `\n11\n`);
    expect(verifyCosignedCheckpoint(moved, parsePolicy(`log ${pqLogKey.vkey}\nquorum none\n`))).toMatchObject({ ok: false, code: 'log-signature' });
  });

  it('an ML-DSA-44 log with ML-DSA-44 witnesses only: post-quantum end to end', () => {
    const policy = parsePolicy(`log ${pqLogKey.vkey}\nwitness pq ${pqWitness.vkey}\nwitness pq2 ${pqWitness2.vkey}\ngroup g all pq pq2\nquorum g\n`, { strict: true });
    const note = cosigned(pqText, pqLogKey.logSigner(), [pqCosigner(pqWitness, T), pqCosigner(pqWitness2, T)]);
    expect(verifyCosignedCheckpoint(note, policy, { maxAge: 60, now: () => T })).toMatchObject({ ok: true, cosigners: ['pq', 'pq2'], extensionsAuthenticated: true });
  });

  it('extension lines under a 0x06 log signature are reported as not authenticated', () => {
    const withExt = checkpointText(pqLogKey.name, t, ['x not a signature, an extension line']);
    const policy = parsePolicy(`log ${pqLogKey.vkey}\nquorum none\n`);
    const note = signNote(withExt, [pqLogKey.logSigner()]);
    const v = verifyCosignedCheckpoint(note, policy);
    expect(v).toMatchObject({ ok: true, extensionsAuthenticated: false });
    // Anyone can change them: the log signature still verifies.
    expect(verifyCosignedCheckpoint(note.replace('x not a signature', 'y not a signature'), policy)).toMatchObject({ ok: true, extensionsAuthenticated: false });
    // An Ed25519 log signature covers the whole text.
    const ed = signNote(checkpointText(edLog.name, t, ['ext']), [edLog]);
    expect(verifyCosignedCheckpoint(ed, parsePolicy(`log ${edLog.vkey}\nquorum none\n`))).toMatchObject({ ok: true, extensionsAuthenticated: true });
  });

  it('Sigsum dialect: hex Ed25519 keys plus 0x06 vkeys for ML-DSA-44 witnesses and logs', () => {
    const hexLog = toHex(edLog.publicKey);
    const sigsumOriginText = checkpointText(`sigsum.org/v1/tree/${createHash('sha256').update(edLog.publicKey).digest('hex')}`, t);
    const text = [`log ${hexLog}`, `log ${pqLogKey.vkey}`, `witness ed ${toHex(edWitness.publicKey)}`, `witness pq ${pqWitness.vkey}  # a trailing Sigsum comment`, 'group g 2 ed pq', 'quorum g', ''].join('\n');
    const policy = parsePolicy(text);
    expect(policy.dialect).toBe('sigsum');
    expect(policy.logs.map((l) => l.origin)).toEqual([sigsumOriginText.split('\n')[0], pqLogKey.name]);
    expect(policy.witnesses.map((w) => w.verifier?.type)).toEqual([undefined, 0x06]);
    // The dialect is still detected when a 0x06 key comes first.
    const first = parsePolicy([`witness pq ${pqWitness.vkey}`, `log ${hexLog}`, `witness ed ${toHex(edWitness.publicKey)}`, 'group g 2 ed pq', 'quorum g', ''].join('\n'));
    expect(first.dialect).toBe('sigsum');
    // Ed25519 Sigsum witness (any key name) + ML-DSA-44 witness on the ML-DSA log's checkpoint.
    const note = cosigned(pqText, pqLogKey.logSigner(), [edCosigner(edWitness, T), pqCosigner(pqWitness, T)]);
    expect(verifyCosignedCheckpoint(note, policy)).toMatchObject({ ok: true, cosigners: ['ed', 'pq'] });
    // Other vkeys are still refused in a Sigsum policy.
    expect(() => parsePolicy(`log ${hexLog}\nwitness x ${edWitness.vkey}\nquorum none\n`)).toThrow(/64 hex digits \(a Sigsum Ed25519 public key\) or an ML-DSA-44 \(0x06\) vkey/);
  });

  it('the same ML-DSA key twice, or as both log and witness, is a duplicate key', () => {
    expect(() => parsePolicy(`log ${pqLogKey.vkey}\nwitness a ${pqLogKey.vkey}\nquorum none\n`)).toThrow(PolicyError);
    expect(() => parsePolicy(`log ${edLog.vkey}\nwitness a ${pqWitness.vkey}\nwitness b ${pqWitness.vkey}\nquorum none\n`)).toThrow(/same public key/);
  });

  it('one witness with both keys: a 1-of-2 group counts it once (docs/client.md)', () => {
    // One operator runs Ed25519 and ML-DSA-44 keys on the same witness; another runs Ed25519 only.
    const opEd = edWitness;
    const opPq = mlDsa44KeyFromSeed(edWitness.name, seed(4));
    const other = generateKey('other.witness.example');
    const wrong = parsePolicy([`log ${edLog.vkey}`, `witness a-ed ${opEd.vkey}`, `witness a-pq ${opPq.vkey}`, `witness b ${other.vkey}`, 'group g 2 a-ed a-pq b', 'quorum g', ''].join('\n'));
    const right = parsePolicy(
      [`log ${edLog.vkey}`, `witness a-ed ${opEd.vkey}`, `witness a-pq ${opPq.vkey}`, `witness b ${other.vkey}`, 'group a any a-ed a-pq', 'group g 2 a b', 'quorum g', ''].join('\n'),
    );
    // Operator a alone, with both of its keys.
    const onlyA = cosigned(edText, edLog, [edCosigner(opEd, T), pqCosigner(opPq, T)]);
    expect(verifyCosignedCheckpoint(onlyA, wrong).ok).toBe(true); // one operator counted twice
    expect(verifyCosignedCheckpoint(onlyA, right)).toMatchObject({ ok: false, code: 'quorum' });
    // Both operators: a with either key.
    for (const aKey of [edCosigner(opEd, T), pqCosigner(opPq, T)]) {
      expect(verifyCosignedCheckpoint(cosigned(edText, edLog, [aKey, edCosigner(other, T)]), right)).toMatchObject({ ok: true });
    }
  });
});

describe('gathering cosignatures from 0x06 witnesses (policy fetch)', () => {
  it('merges an ML-DSA and an Ed25519 cosignature on one ML-DSA-signed checkpoint', async () => {
    const server = await new FakeWitnesses().start();
    try {
      const text = checkpointText(pqLogKey.name, tree(6));
      const note = signNote(text, [pqLogKey.logSigner()]);
      const bytes = parseNote(note).textBytes;
      server.answers.set(0, note + signatureLines(bytes, [pqCosigner(pqWitness, T)]));
      server.answers.set(1, note + signatureLines(bytes, [edCosigner(edWitness, T)]));
      const policy = parsePolicy(`log ${pqLogKey.vkey}\nwitness pq ${pqWitness.vkey} ${server.url(0)}\nwitness ed ${edWitness.vkey} ${server.url(1)}\ngroup g all pq ed\nquorum g\n`);
      const r = await gatherCosignatures(policy, pqLogKey.name);
      expect(r.ok, r.reason).toBe(true);
      expect(r.best!.verification.cosigners).toEqual(['pq', 'ed']);
      expect(r.responses.map((x) => x.status)).toEqual(['ok', 'ok']);
    } finally {
      await server.stop();
    }
  });
});

describe('the dual-key policy of docs/client.md', () => {
  it('parses with real keys in place of the placeholders; geomys alone (both keys) does not meet 2 of 3', () => {
    const md = readFileSync(new URL('../../docs/client.md', import.meta.url), 'utf8');
    const block = /```\n(log <the log's vkey>\n[\s\S]*?)```/.exec(md)![1];
    const geomysEd = generateKey('witness.example.org/geomys');
    const geomysPq = mlDsa44KeyFromSeed('witness.example.org/geomys', seed(21));
    const mullvad = generateKey('witness.stagemole.eu');
    const google = generateKey('staging.witness.transparency.goog/ring-any-bells');
    const text = block
      .replace("<the log's vkey>", edLog.vkey)
      .replace("<geomys's Ed25519 vkey (0x01 or 0x04)>", geomysEd.vkey)
      .replace("<geomys's ML-DSA-44 vkey (0x06)>", geomysPq.vkey)
      .replace(/^witness mullvad \S+/m, `witness mullvad ${mullvad.vkey}`)
      .replace(/^witness google \S+/m, `witness google ${google.vkey}`);
    const policy = parsePolicy(text, { strict: true });
    const cp = checkpointText(edLog.name, tree(3));
    expect(verifyCosignedCheckpoint(cosigned(cp, edLog, [edCosigner(geomysEd, T), pqCosigner(geomysPq, T)]), policy)).toMatchObject({ ok: false, code: 'quorum' });
    expect(verifyCosignedCheckpoint(cosigned(cp, edLog, [pqCosigner(geomysPq, T), edCosigner(google, T)]), policy)).toMatchObject({ ok: true });
    const wrong = parsePolicy(text.replace('group staging 2 geomys mullvad google', 'group staging 2 geomys-ed geomys-pq mullvad google').replace(/^group geomys .*$/m, ''));
    expect(verifyCosignedCheckpoint(cosigned(cp, edLog, [edCosigner(geomysEd, T), pqCosigner(geomysPq, T)]), wrong).ok).toBe(true);
  });
});

describe('timestamp 0 and maxAge (docs/client.md)', () => {
  const t = tree(4);
  const text = checkpointText(edLog.name, t);
  const policy = parsePolicy(`log ${edLog.vkey}\nwitness pq ${pqWitness.vkey}\nwitness ed ${edWitness.vkey}\ngroup g any pq ed\nquorum g\n`);
  const pqOnly = parsePolicy(`log ${edLog.vkey}\nwitness pq ${pqWitness.vkey}\nquorum pq\n`);
  const zero = cosigned(text, edLog, [pqCosigner(pqWitness, 0n)]);

  it('without maxAge a timestamp-0 cosignature counts toward k-of-n', () => {
    const v = verifyCosignedCheckpoint(zero, pqOnly);
    expect(v).toMatchObject({ ok: true, cosigners: ['pq'] });
    expect(v.witnesses[0]).toMatchObject({ status: 'verified', timestamp: 0n });
  });

  it('with maxAge it never counts, whatever the clock says ("undated"; the failure code is stale)', () => {
    for (const now of [0, 1, 30, Number(T)]) {
      for (const maxAge of [0, 60, 1e12]) {
        const v = verifyCosignedCheckpoint(zero, pqOnly, { maxAge, now: () => now });
        expect(v).toMatchObject({ ok: false, code: 'stale' });
        expect(v.witnesses[0]).toMatchObject({ status: 'undated', timestamp: 0n });
        expect(v.reason).toMatch(/timestamp 0/);
      }
    }
  });

  it('the CLI report names timestamp 0 and unauthenticated extension lines', () => {
    const v = verifyCosignedCheckpoint(zero, pqOnly, { maxAge: 60, now: () => Number(T) });
    expect(formatReport(v)).toContain('witness pq: undated with timestamp 0 (no time claimed)');
    const ext = signNote(checkpointText(pqLogKey.name, t, ['ext']), [pqLogKey.logSigner()]);
    expect(formatReport(verifyCosignedCheckpoint(ext, parsePolicy(`log ${pqLogKey.vkey}\nquorum none\n`)))).toMatch(/extension lines: NOT covered by the log signature/);
    expect(formatReport(verifyCosignedCheckpoint(cosigned(text, edLog, [pqCosigner(pqWitness, T)]), pqOnly))).toMatch(/witness pq: verified at 2023-11-14T22:13:20Z/);
  });

  it('a dated cosignature by another witness still satisfies the freshness limit', () => {
    const note = cosigned(text, edLog, [pqCosigner(pqWitness, 0n), edCosigner(edWitness, T)]);
    const v = verifyCosignedCheckpoint(note, policy, { maxAge: 600, now: () => T + 10n, exhaustive: true });
    expect(v).toMatchObject({ ok: true, cosigners: ['ed'] });
    expect(v.witnesses.map((w) => w.status)).toEqual(['undated', 'verified']);
  });

  it('a dated ML-DSA cosignature is judged by its timestamp like an Ed25519 one', () => {
    const fresh = cosigned(text, edLog, [pqCosigner(pqWitness, T)]);
    expect(verifyCosignedCheckpoint(fresh, pqOnly, { maxAge: 600, now: () => T + 10n }).ok).toBe(true);
    expect(verifyCosignedCheckpoint(fresh, pqOnly, { maxAge: 600, now: () => T + 10_000n })).toMatchObject({ ok: false, code: 'stale' });
    expect(verifyCosignedCheckpoint(fresh, pqOnly, { maxAge: 600, now: () => T - 10_000n }).witnesses[0].status).toBe('future');
  });

  it('a 0x06 log signature with timestamp 0 is fine with maxAge (freshness is about cosignatures)', () => {
    const pqText = checkpointText(pqLogKey.name, t);
    const p = parsePolicy(`log ${pqLogKey.vkey}\nwitness ed ${edWitness.vkey}\nquorum ed\n`);
    const note = cosigned(pqText, pqLogKey.logSigner(() => 0n), [edCosigner(edWitness, T)]);
    expect(verifyCosignedCheckpoint(note, p, { maxAge: 60, now: () => T })).toMatchObject({ ok: true });
  });
});

describe('evidence from ML-DSA-44-signed checkpoints (src/witness/evidence.ts through the registry)', () => {
  const a = tree(10);
  const b = tree(4);
  for (let i = 4; i < 10; i++) b.append(new TextEncoder().encode(`evil ${i}`));
  const origin = pqLogKey.name;
  const logV = parseVkey(pqLogKey.vkey);
  const side = (t: MemoryTree, size?: bigint) => {
    const s = size ?? t.size;
    const note = openNote(signNote(formatCheckpoint({ origin, size: s, root: t.root(s) }), [pqLogKey.logSigner()]), [logV]);
    return { note, checkpoint: parseCheckpoint(note.text) };
  };

  it('same-size split view: evidence verifies, survives encoding, and makes the policy refuse the origin', () => {
    const e = makeEvidence(side(a), side(b));
    expect(verifyEvidence(e, (o) => (o === origin ? [logV] : undefined))).toMatchObject({ ok: true, origin });
    const bytes = encodeEvidence(e);
    expect(verifyEvidence(decodeEvidence(bytes), () => [logV]).ok).toBe(true);
    const policy = parsePolicy(`log ${pqLogKey.vkey}\nquorum none\n`);
    const cp = signNote(formatCheckpoint({ origin, size: a.size, root: a.root(a.size) }), [pqLogKey.logSigner()]);
    expect(verifyCosignedCheckpoint(cp, policy).ok).toBe(true);
    expect(verifyCosignedCheckpoint(cp, policy, { knownEvidence: [bytes] })).toMatchObject({ ok: false, code: 'known-evidence' });
    // Under another key the evidence does not verify.
    const other = parseVkey(mlDsa44KeyFromSeed(origin, seed(8)).vkey);
    expect(verifyEvidence(e, () => [other])).toMatchObject({ ok: false, code: 'bad-signature' });
  });

  it('different sizes with a consistency proof', () => {
    const small = side(b, 6n); // b at 6 is not a prefix of a at 10
    const big = side(a);
    const proof = a.consistencyProof(6n, 10n);
    const e = makeEvidence(small, big, { h: a.root(6n), proof });
    expect(verifyEvidence(e, () => [logV])).toMatchObject({ ok: true });
  });
});
