import { afterEach, describe, expect, it } from 'vitest';
import { parsePolicy, verifyCosignedCheckpoint, type PolicyVerification } from '../../src/policy/index.js';
import { cryptoBackend, setCryptoBackend, type CryptoBackend } from '../../src/crypto/index.js';
import { nobleBackend } from '../../src/crypto/noble.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { cosigner, ed25519KeyFromSeed, formatKeyId, generateKey, openNote, parseNote, parseVkey, signatureLines } from '../../src/note/index.js';
import { parseCheckpoint } from '../../src/checkpoint/index.js';
import { makeEvidence, encodeEvidence } from '../../src/witness/evidence.js';
import { toHex } from '../../src/util/bytes.js';
import { TestLog } from '../helpers/fork.js';
import { armored, cosign, Network, staging, stagingPolicy, STAGING_NAMES } from './helpers.js';

const TS = BigInt(staging.cosignature_timestamps['witness.stagemole.eu']);
const negative = (prefix: string) => staging.derived_negatives.find((n) => n.name.startsWith(prefix))!.note;

function expectOk(v: PolicyVerification): void {
  expect(v.reason).toBeTypeOf('string');
  expect({ ok: v.ok, code: v.code, reason: v.reason }).toMatchObject({ ok: true, code: undefined });
}

afterEach(() => setCryptoBackend(nodeBackend));

describe('the real staging checkpoint cosigned by three public witnesses', () => {
  it.each([1, 2, 3, 'any', 'all'] as const)('%s of 3: accept', (k) => {
    for (const backend of [nodeBackend, nobleBackend]) {
      setCryptoBackend(backend);
      const v = verifyCosignedCheckpoint(staging.note, parsePolicy(stagingPolicy(k)), { exhaustive: true });
      expectOk(v);
      expect(v.logVerified).toBe(true);
      expect(v.checkpoint).toMatchObject({ origin: 'log2025-alpha3.rekor.sigstage.dev', size: 4026479n });
      expect(v.cosigners).toEqual(STAGING_NAMES);
      expect(v.witnesses.map((w) => w.timestamp)).toEqual([TS, TS, TS]);
      expect(v.groups[0]).toMatchObject({ name: 'staging', satisfied: true, satisfiedMembers: STAGING_NAMES });
      expect(v.reason).toMatch(/quorum staging satisfied \(cosigned by geomys, mullvad, trustfabric\)/);
    }
  });

  it('4 of the 3 witnesses: reject (the 4th required witness never cosigned)', () => {
    const extra = generateKey('extra.example');
    const text = stagingPolicy('all').replace('group staging all geomys mullvad trustfabric', `witness extra ${extra.vkey}\ngroup staging all geomys mullvad trustfabric extra`);
    const v = verifyCosignedCheckpoint(staging.note, parsePolicy(text));
    expect(v).toMatchObject({ ok: false, code: 'quorum' });
    expect(v.reason).toMatch(/group staging needs 4 of 4/);
    expect(v.reason).toMatch(/extra \(no cosignature\)/);
  });

  it('without the stop-early shortcut the verdicts are the same (and in the default mode too)', () => {
    for (const k of [1, 2, 3] as const) {
      const p = parsePolicy(stagingPolicy(k));
      expect(verifyCosignedCheckpoint(staging.note, p).ok).toBe(true);
      expect(verifyCosignedCheckpoint(negative('Mullvad line removed'), p).ok).toBe(k <= 2);
      expect(verifyCosignedCheckpoint(negative('one timestamp byte'), p).ok).toBe(k <= 2);
    }
  });

  it('Mullvad line removed: 2-of-3 accept, 3-of-3 reject', () => {
    const note = negative('Mullvad line removed');
    expectOk(verifyCosignedCheckpoint(note, parsePolicy(stagingPolicy(2))));
    const v = verifyCosignedCheckpoint(note, parsePolicy(stagingPolicy(3)), { exhaustive: true });
    expect(v).toMatchObject({ ok: false, code: 'quorum', cosigners: ['geomys', 'trustfabric'] });
    expect(v.witnesses[1]).toEqual({ name: 'mullvad', status: 'absent', lines: 0 });
    expect(v.reason).toMatch(/needs 3 of 3 and has 2 \[geomys \(verified\); mullvad \(no cosignature\); trustfabric \(verified\)\]/);
  });

  it('a cosignature that fails to verify counts as absent: it does not reject the checkpoint', () => {
    const note = negative('one timestamp byte');
    // Go's note.Open would reject the whole note (invalid signature for a known key).
    expect(() => openNote(note, [parseVkey(staging.log_vkey), ...staging.witness_vkeys.map((k) => parseVkey(k))])).toThrow(/invalid signature/);
    const ok = verifyCosignedCheckpoint(note, parsePolicy(stagingPolicy(2)), { exhaustive: true });
    expectOk(ok);
    expect(ok.witnesses[1]).toMatchObject({ name: 'mullvad', status: 'invalid', lines: 1, key: 'witness.stagemole.eu+67f7aea0' });
    expect(ok.cosigners).toEqual(['geomys', 'trustfabric']);
    const bad = verifyCosignedCheckpoint(note, parsePolicy(stagingPolicy(3)));
    expect(bad).toMatchObject({ ok: false, code: 'quorum' });
    expect(bad.reason).toMatch(/mullvad \(does not verify\)/);
  });

  it('a bad log signature rejects, however many witnesses cosigned', () => {
    const lines = staging.note.split('\n');
    const i = lines.findIndex((l) => l.startsWith('\u2014 log2025-alpha3'));
    const sig = lines[i].split(' ')[2];
    lines[i] = lines[i].replace(sig, sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11));
    const v = verifyCosignedCheckpoint(lines.join('\n'), parsePolicy(stagingPolicy(1)));
    expect(v).toMatchObject({ ok: false, code: 'log-signature', logVerified: false });
    expect(v.reason).toMatch(/signature by log key log2025-alpha3.rekor.sigstage.dev\+d3d3a70c does not verify/);
    expect(v.checkpoint).toBeUndefined();
  });

  it('a policy for another log: no log signature', () => {
    const other = generateKey('other.example/log');
    const v = verifyCosignedCheckpoint(staging.note, parsePolicy(stagingPolicy(1).replace(staging.log_vkey, other.vkey)));
    expect(v).toMatchObject({ ok: false, code: 'log-signature' });
    expect(v.reason).toMatch(/no signature by a log key of the policy/);
  });

  it('a witness counts once however many lines it has', () => {
    const lines = staging.note.split('\n');
    const mullvad = lines.find((l) => l.startsWith('\u2014 witness.stagemole.eu'))!;
    const log = lines.find((l) => l.startsWith('\u2014 log2025'))!;
    const note = `${lines.slice(0, 4).join('\n')}\n${log}\n${Array(20).fill(mullvad).join('\n')}\n`;
    const v = verifyCosignedCheckpoint(note, parsePolicy(stagingPolicy(2)), { exhaustive: true });
    expect(v).toMatchObject({ ok: false, code: 'quorum', cosigners: ['mullvad'] });
    expect(v.witnesses[1]).toMatchObject({ status: 'verified', lines: 20 });
    expectOk(verifyCosignedCheckpoint(note, parsePolicy(stagingPolicy(1))));
  });
});

describe('the real production Armored Witness checkpoints (0x01-published witness keys)', () => {
  const names = ['autumn-wood', 'floral-sky', 'small-breeze', 'weathered-rain'];
  const policyFor = (v: (typeof armored.vectors)[number], k: number, keys = armored.witness_vkeys_as_published_type01, origin = true) =>
    [
      `log ${v.log_vkey}`,
      ...(origin ? [`origin ${v.note.split('\n')[0]}`] : []),
      ...keys.map((key, i) => `witness ${names[i]} ${key}`),
      `group aw ${k} ${names.join(' ')}`,
      'quorum aw',
    ].join('\n');

  it.each(armored.vectors.map((v, i) => [i, v] as const))('vector %i: 1 and 2 of 4 accept, 3 and 4 of 4 reject', (_i, v) => {
    const expected = v.expect_with_log_and_all_witness_cosig_vkeys.verified.slice(1).map((s) => names.find((n) => s.startsWith(`ArmoredWitness-${n}+`)));
    for (const keys of [armored.witness_vkeys_as_published_type01, armored.witness_cosignature_vkeys_derived_type04]) {
      for (const k of [1, 2]) {
        const r = verifyCosignedCheckpoint(v.note, parsePolicy(policyFor(v, k, keys)), { exhaustive: true });
        expectOk(r);
        expect([...r.cosigners].sort()).toEqual([...expected].sort());
      }
      for (const k of [3, 4]) expect(verifyCosignedCheckpoint(v.note, parsePolicy(policyFor(v, k, keys)))).toMatchObject({ ok: false, code: 'quorum' });
    }
  });

  it('the log key name is not the origin: without the origin extension the origin is refused, with a hint', () => {
    const v = armored.vectors[0];
    const r = verifyCosignedCheckpoint(v.note, parsePolicy(policyFor(v, 2, undefined, false)));
    expect(r).toMatchObject({ ok: false, code: 'origin', logVerified: true });
    expect(r.reason).toMatch(/checkpoint origin "transparency.dev\/armored-witness\/firmware_transparency\/ci\/3" is not the origin of log key transparency.dev-aw-ftlog-ci-3\+3f689522/);
    expect(r.reason).toMatch(/add an "origin" line/);
    // Strict mode refuses the extension itself.
    expect(() => parsePolicy(policyFor(v, 2), { strict: true })).toThrow(/line 2: the "origin" line is an extension/);
  });
});

describe('freshness (injected clock)', () => {
  const p = parsePolicy(stagingPolicy(2));
  const at = (t: bigint) => () => t;

  it('young enough: accept; too old: "stale"; the skew allowance applies', () => {
    expectOk(verifyCosignedCheckpoint(staging.note, p, { maxAge: 3600, now: at(TS + 100n) }));
    expectOk(verifyCosignedCheckpoint(staging.note, p, { maxAge: 3600, now: at(TS + 3600n + 60n) }));
    const old = verifyCosignedCheckpoint(staging.note, p, { maxAge: 3600, now: at(TS + 3600n + 61n), exhaustive: true });
    expect(old).toMatchObject({ ok: false, code: 'stale', cosigners: [] });
    expect(old.witnesses.map((w) => w.status)).toEqual(['stale', 'stale', 'stale']);
    expect(old.reason).toMatch(/met only by counting cosignatures outside the freshness limit \(max age 3600 s, skew 60 s\)/);
    expectOk(verifyCosignedCheckpoint(staging.note, p, { maxAge: 3600, clockSkew: 120, now: at(TS + 3700n) }));
  });

  it('cosignatures dated in the future count as absent beyond the skew', () => {
    const v = verifyCosignedCheckpoint(staging.note, p, { maxAge: 3600, now: at(TS - 61n) });
    expect(v).toMatchObject({ ok: false, code: 'stale' });
    expect(v.witnesses.every((w) => w.status === 'future' || w.status === 'unchecked')).toBe(true);
    expectOk(verifyCosignedCheckpoint(staging.note, p, { maxAge: 3600, now: at(TS - 60n) }));
    expectOk(verifyCosignedCheckpoint(staging.note, p, { maxAge: 3600, clockSkew: 300, now: at(TS - 200n) }));
  });

  it('a clock as a number (seconds, fractional) works; without maxAge time is ignored', () => {
    expectOk(verifyCosignedCheckpoint(staging.note, p, { maxAge: 10, now: () => Number(TS) + 0.5 }));
    expectOk(verifyCosignedCheckpoint(staging.note, p, { now: () => 0 }));
    expect(() => verifyCosignedCheckpoint(staging.note, p, { maxAge: -1 })).toThrow(RangeError);
  });

  it('with several lines from one witness, the newest valid one decides', () => {
    const net = new Network('example.com/fresh', 2);
    const policy = parsePolicy(net.policy(['group g all w0 w1', 'quorum g']));
    const old = net.cosigned([0, 1], 1000n);
    const note = cosign(old, [net.witnesses[0]], 5000n); // w0 has a newer line too
    const v = verifyCosignedCheckpoint(note, policy, { maxAge: 1000, now: () => 5500n, exhaustive: true });
    expect(v.witnesses.map((w) => [w.status, w.timestamp])).toEqual([
      ['verified', 5000n],
      ['stale', 1000n],
    ]);
    expect(v.code).toBe('stale');
  });
});

describe('bad notes and hostile input: clear errors, no crash', () => {
  const p = parsePolicy(stagingPolicy(2));

  it.each([
    ['empty', ''],
    ['no signatures', 'log2025-alpha3.rekor.sigstage.dev\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n'],
    ['CRLF', staging.note.replace(/\n/g, '\r\n')],
    ['en dash', staging.note.replace(/\u2014/g, '\u2013')],
    ['truncated', staging.note.slice(0, -5)],
    ['binary', new Uint8Array([0xff, 0xfe, 0x0a, 0x0a, 0x00])],
  ])('%s: malformed', (_n, note) => {
    const v = verifyCosignedCheckpoint(note as string, p);
    expect(v).toMatchObject({ ok: false, code: 'malformed', logVerified: false });
    expect(v.reason).toMatch(/^malformed note/);
  });

  it('hundreds of signature lines: refused as malformed, saying how many', () => {
    const line = staging.note.split('\n').find((l) => l.startsWith('\u2014 witness.stagemole.eu'))!;
    const note = staging.note + `${line}\n`.repeat(300);
    const v = verifyCosignedCheckpoint(note, p);
    expect(v).toMatchObject({ ok: false, code: 'malformed' });
    expect(v.reason).toMatch(/304 signature lines; at most 100 are accepted/);
  });

  it('99 junk lines claiming to be one witness cost one witness, and still count once', () => {
    const lines = staging.note.split('\n');
    const mullvad = lines.find((l) => l.startsWith('\u2014 witness.stagemole.eu'))!;
    const [, name, b64] = mullvad.split(' ');
    const junk = Array.from({ length: 95 }, (_, i) => `\u2014 ${name} ${b64.slice(0, 12)}${String.fromCharCode(65 + (i % 26))}${b64.slice(13)}`);
    const note = `${lines.slice(0, -1).join('\n')}\n${junk.join('\n')}\n`;
    const v = verifyCosignedCheckpoint(note, p, { exhaustive: true });
    expectOk(v);
    expect(v.witnesses[1]).toMatchObject({ status: 'verified', lines: 96 });
    expect(v.cosigners).toEqual(STAGING_NAMES);
  });

  it('a log-signed text that is not a checkpoint is malformed (parsed only after the log signature)', () => {
    const key = generateKey('example.com/log');
    const note = `example.com/log\nnot a size\nxx\n\n${signatureLines(new TextEncoder().encode('example.com/log\nnot a size\nxx\n'), [key])}`;
    const v = verifyCosignedCheckpoint(note, parsePolicy(`log ${key.vkey}\nquorum none\n`));
    expect(v).toMatchObject({ ok: false, code: 'malformed', logVerified: true });
    expect(v.reason).toMatch(/malformed checkpoint: bad tree size/);
  });

  it('unknown signature lines are ignored and counted', () => {
    const stranger = generateKey('stranger.example');
    const note = cosign(staging.note, [stranger], 1n);
    const v = verifyCosignedCheckpoint(note, p);
    expectOk(v);
    expect(v.ignoredLines).toBe(1);
  });
});

describe('groups, early stop and synthetic networks', () => {
  it('evaluates groups recursively: the C2SP example (2 of X and 1 of Y)', () => {
    const net = new Network('example.com/xy', 6);
    const policy = parsePolicy(net.policy(['group X 2 w0 w1 w2', 'group Y any w3 w4 w5', 'group XY all X Y', 'quorum XY']));
    expectOk(verifyCosignedCheckpoint(net.cosigned([0, 2, 5]), policy));
    const onlyX = verifyCosignedCheckpoint(net.cosigned([0, 1, 2]), policy, { exhaustive: true });
    expect(onlyX).toMatchObject({ ok: false, code: 'quorum' });
    expect(onlyX.groups.map((g) => g.satisfied)).toEqual([true, false, false]);
    expect(onlyX.reason).toMatch(/group XY needs 2 of 2 and has 1 \[X \(satisfied\); group Y needs 1 of 3 and has 0/);
    expect(verifyCosignedCheckpoint(net.cosigned([0, 3, 4, 5]), policy).code).toBe('quorum');
  });

  it('stops verifying once the quorum is decided (counted Ed25519 verifications)', () => {
    const net = new Network('example.com/count', 8);
    const policy = parsePolicy(net.policy(['group three 2 w5 w6 w7', 'group q 4 w0 w1 w2 w3 w4 three', 'quorum q']));
    const note = net.cosigned([0, 1, 2, 3, 4, 5, 6, 7]);
    let calls = 0;
    const counting: CryptoBackend = { ...nodeBackend, ed25519Verify: (...a) => (calls++, nodeBackend.ed25519Verify(...a)) };
    setCryptoBackend(counting);
    const quick = verifyCosignedCheckpoint(note, policy);
    expect(quick.ok).toBe(true);
    expect(calls).toBe(1 + 4); // the log, then w0..w3 decide 4 of 6
    expect(quick.witnesses.filter((w) => w.status === 'unchecked')).toHaveLength(4);
    calls = 0;
    expect(verifyCosignedCheckpoint(note, policy, { exhaustive: true }).cosigners).toHaveLength(8);
    expect(calls).toBe(1 + 8);
    // Impossible from the start (only 3 witnesses have lines): decided without any witness verify.
    calls = 0;
    const hopeless = verifyCosignedCheckpoint(net.cosigned([0, 1, 5]), policy);
    expect(hopeless.code).toBe('quorum');
    expect(calls).toBe(1);
    expect(cryptoBackend()).toBe(counting);
  });

  it('quorum none: the log signature alone', () => {
    const net = new Network('example.com/none', 1);
    const v = verifyCosignedCheckpoint(net.log.checkpoint(), parsePolicy(net.policy(['quorum none'])));
    expectOk(v);
    expect(v.reason).toMatch(/no cosignatures required/);
  });

  it('key rotation: two log keys for one origin, either may sign', () => {
    const log = new TestLog('example.com/rot').append(3);
    const newKey = generateKey('example.com/rot');
    const policy = parsePolicy(`log ${log.key.vkey}\nlog ${newKey.vkey}\nquorum none\n`);
    expectOk(verifyCosignedCheckpoint(log.checkpoint(), policy));
    expectOk(verifyCosignedCheckpoint(new TestLog('example.com/rot', newKey, log.tree).checkpoint(), policy));
  });

  it('Sigsum policies: hex keys, derived origin, cosignatures matched by key ID whatever their key name', () => {
    const seed = generateKey('placeholder').seed;
    const origin = `sigsum.org/v1/tree/${toHex(nodeBackend.sha256(ed25519KeyFromSeed('placeholder', seed).publicKey))}`;
    const log = new TestLog(origin, ed25519KeyFromSeed(origin, seed)).append(5);
    const ws = [0, 1, 2].map((i) => generateKey(`sigsum-witness-${i}`));
    const text = [
      `log ${toHex(log.key.publicKey)} https://log.example`,
      ...ws.map((w, i) => `witness label${i} ${toHex(w.publicKey)}`),
      'group quorum-rule 2 label0 label1 label2',
      'quorum quorum-rule',
    ].join('\n');
    const policy = parsePolicy(text);
    expect(policy.logs[0].origin).toBe(origin);
    const v = verifyCosignedCheckpoint(cosign(log.checkpoint(), [ws[0], ws[2]], 42n), policy, { exhaustive: true });
    expectOk(v);
    expect(v.cosigners).toEqual(['label0', 'label2']);
    expect(v.witnesses[0].key).toBe(`sigsum-witness-0+${formatKeyId(parseVkey(ws[0].cosignatureVkey).keyId)}`);
    expect(verifyCosignedCheckpoint(cosign(log.checkpoint(), [ws[1]], 42n), policy).code).toBe('quorum');
    // A line with a witness's key ID under another name is not that witness's.
    const forged = cosign(log.checkpoint(), [ws[0]], 42n).replace('\u2014 sigsum-witness-0 ', '\u2014 someone-else ');
    expect(verifyCosignedCheckpoint(forged, parsePolicy(text.replace('group quorum-rule 2', 'group quorum-rule 1'))).witnesses[0].status).toBe('absent');
  });
});

describe('known evidence', () => {
  const a = new TestLog('example.com/split').append(10);
  const b = a.fork(4n).append(6, 'evil');
  const side = (l: TestLog) => {
    const note = openNote(l.checkpoint(), [parseVkey(a.key.vkey)]);
    return { note, checkpoint: parseCheckpoint(note.text) };
  };
  const evidence = makeEvidence(side(a), side(b));
  const policy = parsePolicy(`log ${a.key.vkey}\nquorum none\n`);

  it('refuses an origin with proven evidence (predicate, object or encoded)', () => {
    expectOk(verifyCosignedCheckpoint(a.checkpoint(), policy));
    for (const knownEvidence of [(o: string) => o === 'example.com/split', [evidence], [encodeEvidence(evidence)]]) {
      const v = verifyCosignedCheckpoint(a.checkpoint(), policy, { knownEvidence });
      expect(v).toMatchObject({ ok: false, code: 'known-evidence', logVerified: true });
      expect(v.reason).toMatch(/proven split-view evidence is known for origin "example.com\/split"/);
    }
  });

  it('evidence that does not verify with the policy log keys, or for another origin, does not refuse', () => {
    const other = new TestLog('example.com/split').append(10); // same origin, a different key
    const o2 = other.fork(4n).append(6, 'evil');
    const s = (l: TestLog) => {
      const note = openNote(l.checkpoint(), [parseVkey(other.key.vkey)]);
      return { note, checkpoint: parseCheckpoint(note.text) };
    };
    expectOk(verifyCosignedCheckpoint(a.checkpoint(), policy, { knownEvidence: [makeEvidence(s(other), s(o2)), new Uint8Array([1, 2, 3])] }));
    expectOk(verifyCosignedCheckpoint(a.checkpoint(), policy, { knownEvidence: (o) => o === 'example.com/other' }));
  });
});

describe('witness cosigning with our own cosigner agrees with the verifier', () => {
  it('cosignatures from cosigner() on a checkpoint with extension lines verify', () => {
    const net = new Network('example.com/ext', 2);
    const note = net.log.checkpoint(undefined, ['extension: one']);
    const parsed = parseNote(note);
    const cosigned = note + signatureLines(parsed.textBytes, net.witnesses.map((w) => cosigner(w, () => 7n)));
    expectOk(verifyCosignedCheckpoint(cosigned, parsePolicy(net.policy(['group g all w0 w1', 'quorum g']))));
  });
});
