// Signature type 0x06 (c2sp.org/signed-note): ML-DSA-44 subtree/v1 cosignatures and log
// signatures (c2sp.org/tlog-cosignature). Message layout built by hand from the spec's struct,
// key IDs, vkeys and skeys, note verification through the registry, and the refusals.
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { makeNobleMlDsa44, mlDsa44, nobleMlDsa44, setMlDsa44Backend, type MlDsa44Backend } from '../../src/crypto/mldsa.js';
import { nodeMlDsa44 } from '../../src/crypto/mldsa-node.js';
import { KeyError, ed25519KeyFromSeed, openNote, parseNote, parseVkey, signNote, schemeFor, NoteError } from '../../src/note/index.js';
import {
  MLDSA44,
  TIMESTAMPED_MLDSA44_SIZE,
  cosignedMessage,
  mlDsa44Timestamp,
  verifyCheckpointSignature,
  verifySubtreeSignature,
} from '../../src/note/sigtypes/mldsa44.js';
import { generateMlDsa44Key, mlDsa44KeyFromSeed, parseMlDsa44Skey, parseMlDsa44Vkey, type MlDsa44Key } from '../../src/note/mldsa-keys.js';
import { concatBytes, u64be } from '../../src/util/bytes.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const utf8 = (s: string) => new TextEncoder().encode(s);

const ROOT = b64('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
const CHECKPOINT = `example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n`;

// Deterministic signing makes failures reproducible; verification is the same either way.
const original = mlDsa44();
setMlDsa44Backend(makeNobleMlDsa44({ deterministic: true }));
afterAll(() => setMlDsa44Backend(original));

const witness = mlDsa44KeyFromSeed('witness.example/w1', Uint8Array.from({ length: 32 }, (_, i) => i));
const logKey = mlDsa44KeyFromSeed('example.com/behind-the-sofa', Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i));

/** A raw ML-DSA signature over any message, bypassing the signer's checks (to forge refusal cases). */
function rawTimestamped(key: MlDsa44Key, timestamp: bigint, msg: Uint8Array): Uint8Array {
  return concatBytes(u64be(timestamp), nobleMlDsa44.sign(key.seed, msg));
}

describe('cosigned_message layout (tlog-cosignature "ML-DSA-44 signed message"), bytes by hand', () => {
  it('checkpoint case: start 0, end = size, non-zero timestamp', () => {
    const want = fromHex(
      [
        '737562747265652f76310a00', // label "subtree/v1\n\0"
        '12', // cosigner_name<1..2^8-1>: length 18
        '7769746e6573732e6578616d706c652f7731', // "witness.example/w1"
        '00000000641850cb', // timestamp 1679315147
        '1b', // log_origin<1..2^8-1>: length 27
        '6578616d706c652e636f6d2f626568696e642d7468652d736f6661', // "example.com/behind-the-sofa"
        '0000000000000000', // start 0
        '00000000013e2dc3', // end 20852163
        '0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62', // hash
      ].join(''),
    );
    const got = cosignedMessage('witness.example/w1', 1679315147n, { origin: 'example.com/behind-the-sofa', start: 0n, end: 20852163n, hash: ROOT });
    expect(hex(got)).toBe(hex(want));
    expect(got.length).toBe(12 + 1 + 18 + 8 + 1 + 27 + 8 + 8 + 32);
  });
  it('subtree case: [8, 13), timestamp 0, an oid/ cosigner name (MTC)', () => {
    const hash = new Uint8Array(32).fill(0x42);
    const want =
      '737562747265652f76310a00' +
      '1a' + '6f69642f312e332e362e312e342e312e34343336332e34372e31' + // "oid/1.3.6.1.4.1.44363.47.1"
      '0000000000000000' +
      '01' + '6c' + // origin "l"
      '0000000000000008' +
      '000000000000000d' +
      '42'.repeat(32);
    expect(hex(cosignedMessage('oid/1.3.6.1.4.1.44363.47.1', 0n, { origin: 'l', start: 8n, end: 13n, hash }))).toBe(want);
  });
  it('letsencrypt/boulder vector (test/fixtures/subtree-vectors.json): our bytes differ from its malformed encodings by exactly the emptied field', () => {
    const v = fixture('subtree-vectors.json').cosigned_message;
    const f = v.fields;
    const ours = hex(cosignedMessage(f.cosigner_name, BigInt(f.timestamp), { origin: f.log_origin, start: BigInt(f.start), end: BigInt(f.end), hash: fromHex(f.hash_hex) }));
    // Put "Debut" back into the empty-cosigner encoding, "Post" into the empty-origin one.
    const label = '737562747265652f76310a00';
    expect(v.empty_cosigner_hex.startsWith(label + '00')).toBe(true);
    expect(ours).toBe(label + '05' + hex(utf8('Debut')) + v.empty_cosigner_hex.slice(label.length + 2));
    const originAt = label.length + 2 + 10 + 16;
    expect(v.empty_log_origin_hex.slice(originAt, originAt + 2)).toBe('00');
    expect(ours).toBe(v.empty_log_origin_hex.slice(0, originAt) + '04' + hex(utf8('Post')) + v.empty_log_origin_hex.slice(originAt + 2));
    // The layout judges no values: [11, 22) with a timestamp is encodable, but never signable or accepted.
    expect(() => witness.signSubtree({ origin: 'Post', start: 11n, end: 22n, hash: new Uint8Array(32) }, 55555n)).toThrow(RangeError);
  });
  it('255-byte name and origin are the limit; empty or longer cannot be encoded', () => {
    const s = { origin: 'o'.repeat(255), start: 0n, end: 1n, hash: new Uint8Array(32) };
    expect(cosignedMessage('n'.repeat(255), 0n, s).length).toBe(12 + 256 + 8 + 256 + 48);
    expect(() => cosignedMessage('n'.repeat(256), 0n, s)).toThrow(RangeError);
    expect(() => cosignedMessage('n', 0n, { ...s, origin: 'o'.repeat(256) })).toThrow(RangeError);
    expect(() => cosignedMessage('n', 0n, { ...s, origin: '' })).toThrow(RangeError);
    expect(() => cosignedMessage('', 0n, s)).toThrow(RangeError);
    expect(() => cosignedMessage('n', 0n, { ...s, hash: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => cosignedMessage('n', 1n << 64n, s)).toThrow(RangeError);
    expect(() => cosignedMessage('n', 0n, { ...s, end: -1n })).toThrow(RangeError);
  });
});

describe('key IDs and vkeys', () => {
  it('key ID = SHA-256(name || 0x0A || 0x06 || public key)[:4], computed independently', () => {
    const h = createHash('sha256').update('witness.example/w1').update(Uint8Array.of(0x0a, 0x06)).update(witness.publicKey).digest();
    expect(witness.keyId).toBe(h.readUInt32BE(0));
    expect(witness.vkey).toBe(`witness.example/w1+${h.subarray(0, 4).toString('hex')}+${Buffer.concat([Buffer.of(6), witness.publicKey]).toString('base64')}`);
    expect(schemeFor(MLDSA44)?.keyId('witness.example/w1', witness.publicKey)).toBe(witness.keyId);
  });
  it('the transparency-dev/formats test vkey: key ID 31236897 (the vkey itself says 5893dc2c and is refused)', () => {
    // test/fixtures/vkey-parsing.json vector 18, from transparency-dev/formats:note/note_cosigv1_test.go@fa283eb7.
    const v = fixture('vkey-parsing.json').vectors[18];
    const [name, , key] = v.vkey.split('+').length === 3 ? v.vkey.split('+') : [v.vkey.split('+')[0], '', v.vkey.split('+').slice(2).join('+')];
    const material = b64(key);
    expect(material[0]).toBe(0x06);
    expect(material.length).toBe(1313);
    expect(schemeFor(MLDSA44)!.keyId(name, material.subarray(1)).toString(16).padStart(8, '0')).toBe(v.computed_key_id_hex);
    expect(() => parseVkey(v.vkey)).toThrow(/key ID 5893dc2c does not match the key \(want 31236897\)/);
    const fixed = v.vkey.replace('+5893dc2c+', '+31236897+');
    const parsed = parseVkey(fixed);
    expect(parsed.type).toBe(MLDSA44);
    expect(parsed.vkey).toBe(fixed);
  });
  it('parseVkey accepts our vkeys and refuses wrong key lengths', () => {
    const v = parseVkey(witness.vkey);
    expect(v.type).toBe(0x06);
    expect(hex(v.key)).toBe(hex(witness.publicKey));
    const short = Buffer.concat([Buffer.of(6), witness.publicKey.subarray(1)]);
    const id = createHash('sha256').update('w').update(Uint8Array.of(0x0a)).update(short).digest().subarray(0, 4).toString('hex');
    expect(() => parseVkey(`w+${id}+${short.toString('base64')}`)).toThrow(/1312 bytes/);
    expect(() => parseMlDsa44Vkey(ed25519KeyFromSeed('w', new Uint8Array(32)).vkey)).toThrow(KeyError);
  });
});

describe('skeys (transparency-dev/formats layout: PRIVATE+KEY+name+keyid+base64(0x06 || 32-byte seed))', () => {
  it('round-trips and derives the vkey', () => {
    expect(witness.skey).toBe(`PRIVATE+KEY+witness.example/w1+${witness.vkey.split('+')[1]}+${Buffer.concat([Buffer.of(6), Buffer.from(witness.seed)]).toString('base64')}`);
    expect(b64(witness.skey.split('+')[4]).length).toBe(33);
    const k = parseMlDsa44Skey(witness.skey);
    expect(k.vkey).toBe(witness.vkey);
    expect(k.skey).toBe(witness.skey);
    const g = generateMlDsa44Key('example.org/new');
    expect(parseMlDsa44Skey(g.skey).vkey).toBe(g.vkey);
  });
  it('refuses wrong type, wrong seed length, mismatched key ID, bad names', () => {
    const [, , name, id, material] = witness.skey.split('+');
    const seed = Buffer.from(witness.seed);
    expect(() => parseMlDsa44Skey(`PRIVATE+KEY+${name}+${id}+${Buffer.concat([Buffer.of(1), seed]).toString('base64')}`)).toThrow(/0x06/);
    expect(() => parseMlDsa44Skey(`PRIVATE+KEY+${name}+${id}+${Buffer.concat([Buffer.of(6), seed, Buffer.of(0)]).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseMlDsa44Skey(`PRIVATE+KEY+${name}+${id}+${Buffer.concat([Buffer.of(6), Buffer.alloc(2560)]).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseMlDsa44Skey(`PRIVATE+KEY+${name}+00000000+${material}`)).toThrow(/key ID/);
    expect(() => parseMlDsa44Skey(`PRIVATE+KEY+a b+${id}+${material}`)).toThrow(KeyError);
    expect(() => parseMlDsa44Skey(`PRIVATE+KEY+${name}+${id}`)).toThrow(KeyError);
    expect(() => mlDsa44KeyFromSeed('x'.repeat(256), witness.seed)).toThrow(/255/);
  });
});

describe('0x06 lines on checkpoints, through openNote and the registry', () => {
  const logEd = ed25519KeyFromSeed('example.com/behind-the-sofa', new Uint8Array(32).fill(9));
  it('a witness cosignature (start 0, end = size, timestamp from the clock) verifies', () => {
    const note = signNote(CHECKPOINT, [logEd, witness.cosigner(() => 1679315147n)]);
    const opened = openNote(note, [parseVkey(logEd.vkey), parseVkey(witness.vkey)]);
    expect(opened.verified.map((l) => l.name)).toEqual(['example.com/behind-the-sofa', 'witness.example/w1']);
    const line = parseNote(note).signatures[1];
    expect(line.sig.length).toBe(TIMESTAMPED_MLDSA44_SIZE);
    expect(mlDsa44Timestamp(line.sig)).toBe(1679315147n);
    // It is exactly a subtree/v1 signature over [0, 20852163) with the root.
    expect(verifySubtreeSignature(witness.publicKey, witness.name, { origin: 'example.com/behind-the-sofa', start: 0n, end: 20852163n, hash: ROOT }, line.sig)).toBe(true);
    // Bytes by hand: timestamp || ML-DSA-44 over the hand-built message above.
    const msg = cosignedMessage('witness.example/w1', 1679315147n, { origin: 'example.com/behind-the-sofa', start: 0n, end: 20852163n, hash: ROOT });
    expect(nobleMlDsa44.verify(witness.publicKey, msg, line.sig.subarray(8))).toBe(true);
  });
  it('a log signature with a 0x06 log key verifies, timestamp 0 included', () => {
    for (const clock of [() => 0n, () => 1700000000n]) {
      const note = signNote(CHECKPOINT, [logKey.logSigner(clock)]);
      const opened = openNote(note, [parseVkey(logKey.vkey)]);
      expect(opened.verified).toHaveLength(1);
      expect(mlDsa44Timestamp(opened.verified[0].sig)).toBe(clock());
    }
  });
  it('the cosigner refuses timestamp 0 (tlog-witness); the log signer does not', () => {
    expect(() => witness.cosigner(() => 0n).sign(utf8(CHECKPOINT))).toThrow(/must not be 0/);
    expect(() => logKey.logSigner().sign(utf8(CHECKPOINT))).not.toThrow();
  });
  it('the signed message commits to the cosigner name: the same key under another name fails', () => {
    const note = signNote(CHECKPOINT, [witness.cosigner(() => 5n)]);
    const line = parseNote(note).signatures[0];
    const other = mlDsa44KeyFromSeed('witness.example/w2', witness.seed);
    expect(verifyCheckpointSignature(other.publicKey, other.name, utf8(CHECKPOINT), line.sig)).toBe(false);
    expect(verifyCheckpointSignature(witness.publicKey, witness.name, utf8(CHECKPOINT), line.sig)).toBe(true);
  });
  it('a wrong size, root or origin fails, and a known key with a bad signature rejects the note', () => {
    const note = signNote(CHECKPOINT, [witness.cosigner(() => 5n)]);
    const sig = parseNote(note).signatures[0].sig;
    for (const text of [CHECKPOINT.replace('20852163', '20852164'), CHECKPOINT.replace('CsUY', 'CsUZ'), CHECKPOINT.replace('sofa', 'sofb')]) {
      expect(verifyCheckpointSignature(witness.publicKey, witness.name, utf8(text), sig)).toBe(false);
    }
    const tampered = note.replace('20852163', '20852164');
    expect(() => openNote(tampered, [parseVkey(witness.vkey)])).toThrow(NoteError);
  });
  it('extension lines are not covered: changing one keeps the 0x06 signature valid (spec: no statement about them)', () => {
    const withExt = CHECKPOINT + 'extension one\n';
    const note = signNote(withExt, [witness.cosigner(() => 5n)]);
    const changed = note.replace('extension one', 'extension two');
    expect(openNote(changed, [parseVkey(witness.vkey)]).verified).toHaveLength(1);
    const dropped = note.replace('extension one\n', '');
    expect(openNote(dropped, [parseVkey(witness.vkey)]).verified).toHaveLength(1);
  });
  it('note text that is not a checkpoint does not verify (and cannot be signed)', () => {
    const sig = witness.cosigner(() => 5n).sign(utf8(CHECKPOINT));
    for (const text of ['hello\n', 'o\n1\n', 'o\n01\n' + CHECKPOINT.split('\n')[2] + '\n', 'o\n18446744073709551615\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n']) {
      expect(verifyCheckpointSignature(witness.publicKey, witness.name, utf8(text), sig)).toBe(false);
    }
    expect(() => witness.cosigner(() => 5n).sign(utf8('hello\n'))).toThrow(/not a checkpoint/);
  });
  it('a size-0 checkpoint (empty tree) can be cosigned: start 0, end 0', () => {
    const empty = `example.com/empty\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`;
    const note = signNote(empty, [witness.cosigner(() => 5n)]);
    expect(openNote(note, [parseVkey(witness.vkey)]).verified).toHaveLength(1);
  });
  it('an origin longer than 255 bytes can be neither signed nor verified', () => {
    const long = `${'o'.repeat(256)}\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n`;
    expect(() => witness.cosigner(() => 5n).sign(utf8(long))).toThrow(RangeError);
    const msg = concatBytes(utf8('subtree/v1\n\0'), Uint8Array.of(18), utf8(witness.name), u64be(5n), Uint8Array.of(0), u64be(0n), u64be(1n), ROOT);
    expect(verifyCheckpointSignature(witness.publicKey, witness.name, utf8(long), rawTimestamped(witness, 5n, msg))).toBe(false);
  });
});

describe('refusals (verification)', () => {
  const s = { origin: 'example.com/behind-the-sofa', start: 0n, end: 20852163n, hash: ROOT };
  it('a timestamp above 2^63 - 1 is refused even though the ML-DSA signature is valid', () => {
    for (const t of [1n << 63n, (1n << 64n) - 1n]) {
      const sig = rawTimestamped(witness, t, cosignedMessage(witness.name, t, s));
      expect(nobleMlDsa44.verify(witness.publicKey, cosignedMessage(witness.name, t, s), sig.subarray(8))).toBe(true);
      expect(verifySubtreeSignature(witness.publicKey, witness.name, s, sig)).toBe(false);
      expect(verifyCheckpointSignature(witness.publicKey, witness.name, utf8(CHECKPOINT), sig)).toBe(false);
    }
    const max = (1n << 63n) - 1n;
    expect(verifySubtreeSignature(witness.publicKey, witness.name, s, rawTimestamped(witness, max, cosignedMessage(witness.name, max, s)))).toBe(true);
  });
  it('start ≠ 0 with timestamp ≠ 0 is refused even though the ML-DSA signature is valid', () => {
    const sub = { origin: 'example.com/behind-the-sofa', start: 8n, end: 13n, hash: new Uint8Array(32).fill(7) };
    const sig = rawTimestamped(witness, 1n, cosignedMessage(witness.name, 1n, sub));
    expect(verifySubtreeSignature(witness.publicKey, witness.name, sub, sig)).toBe(false);
    expect(verifySubtreeSignature(witness.publicKey, witness.name, sub, rawTimestamped(witness, 0n, cosignedMessage(witness.name, 0n, sub)))).toBe(true);
  });
  it('an interval that is not a subtree is refused', () => {
    const bad = { origin: 'o', start: 3n, end: 5n, hash: new Uint8Array(32) };
    expect(verifySubtreeSignature(witness.publicKey, witness.name, bad, rawTimestamped(witness, 0n, cosignedMessage(witness.name, 0n, bad)))).toBe(false);
  });
  it('wrong lengths are refused', () => {
    const sig = witness.signSubtree(s, 5n);
    expect(verifySubtreeSignature(witness.publicKey, witness.name, s, sig)).toBe(true);
    expect(verifySubtreeSignature(witness.publicKey, witness.name, s, sig.subarray(0, sig.length - 1))).toBe(false);
    expect(verifySubtreeSignature(witness.publicKey, witness.name, s, concatBytes(sig, Uint8Array.of(0)))).toBe(false);
    expect(verifySubtreeSignature(witness.publicKey, witness.name, s, sig.subarray(8))).toBe(false); // no timestamp
    expect(verifySubtreeSignature(witness.publicKey.subarray(1), witness.name, s, sig)).toBe(false);
    expect(verifySubtreeSignature(witness.publicKey, witness.name, { ...s, hash: ROOT.subarray(1) }, sig)).toBe(false);
    expect(mlDsa44Timestamp(sig.subarray(1))).toBeNull();
    expect(schemeFor(MLDSA44)!.verify(witness.publicKey, witness.name, utf8(CHECKPOINT), sig.subarray(0, 72))).toBe(false);
  });
});

describe('refusals (signing)', () => {
  it('signSubtree refuses what the spec forbids', () => {
    const h = new Uint8Array(32);
    expect(() => witness.signSubtree({ origin: 'o', start: 8n, end: 13n, hash: h }, 1n)).toThrow(/timestamp 0/);
    expect(() => witness.signSubtree({ origin: 'o', start: 0n, end: 1n, hash: h }, 1n << 63n)).toThrow(/timestamp out of range/);
    expect(() => witness.signSubtree({ origin: 'o', start: 3n, end: 5n, hash: h })).toThrow(/not a subtree/);
    expect(() => witness.signSubtree({ origin: 'o', start: 5n, end: 5n, hash: h })).toThrow(/not a subtree/);
    expect(() => witness.signSubtree({ origin: '', start: 0n, end: 1n, hash: h })).toThrow(RangeError);
  });
});

describe('subtree signatures (what sign-subtree answers)', () => {
  const sub = { origin: 'example.com/behind-the-sofa', start: 8n, end: 13n, hash: b64('mbsQCg+dEIMGlpqeGgk94JutQwKKS2Lo5IuDhKmDjiU=') };
  it('signs with timestamp 0 and verifies through a parsed vkey', async () => {
    const v = parseMlDsa44Vkey(witness.vkey);
    const sig = await witness.signSubtreeAsync(sub);
    expect(mlDsa44Timestamp(sig)).toBe(0n);
    expect(v.verifySubtree(sub, sig)).toBe(true);
    expect(v.verifySubtree({ ...sub, end: 12n }, sig)).toBe(false);
    expect(v.verifySubtree({ ...sub, start: 0n }, sig)).toBe(false);
    expect(v.verifySubtree({ ...sub, origin: 'example.com/other' }, sig)).toBe(false);
    const line = await witness.subtreeLine(sub);
    expect(line).toMatch(new RegExp(`^\u2014 witness\\.example/w1 [A-Za-z0-9+/=]+\\n$`));
    expect(b64(line.split(' ')[2].trim()).length).toBe(4 + TIMESTAMPED_MLDSA44_SIZE);
  });
  it('a checkpoint cosignature is the subtree signature of [0, size)', async () => {
    const sig = await witness.cosigner(() => 7n).signAsync(utf8(CHECKPOINT));
    expect(parseMlDsa44Vkey(witness.vkey).verifySubtree({ origin: 'example.com/behind-the-sofa', start: 0n, end: 20852163n, hash: ROOT }, sig)).toBe(true);
  });
});

const node = nodeMlDsa44();
describe.skipIf(node === null)(`with node:crypto verifying and signing (${process.version})`, () => {
  it('same verdicts on the same lines; node-made lines verify with noble', () => {
    const n = node as MlDsa44Backend;
    const note = signNote(CHECKPOINT, [witness.cosigner(() => 5n)]);
    const sig = parseNote(note).signatures[0].sig;
    const cases: Array<[string, Uint8Array]> = [
      [CHECKPOINT, sig],
      [CHECKPOINT.replace('sofa', 'sofb'), sig],
      [CHECKPOINT, concatBytes(u64be(6n), sig.subarray(8))],
    ];
    const verdicts = (b: MlDsa44Backend) => {
      setMlDsa44Backend(b);
      try {
        return cases.map(([t, s]) => verifyCheckpointSignature(witness.publicKey, witness.name, utf8(t), s));
      } finally {
        setMlDsa44Backend(makeNobleMlDsa44({ deterministic: true }));
      }
    };
    expect(verdicts(n)).toEqual([true, false, false]);
    expect(verdicts(nobleMlDsa44)).toEqual([true, false, false]);
    setMlDsa44Backend(n);
    try {
      const nodeNote = signNote(CHECKPOINT, [witness.cosigner(() => 5n)]);
      expect(hex(mlDsa44KeyFromSeed('x', witness.seed).publicKey)).toBe(hex(nobleMlDsa44.publicKey(witness.seed)));
      setMlDsa44Backend(nobleMlDsa44);
      expect(openNote(nodeNote, [parseVkey(witness.vkey)]).verified).toHaveLength(1);
    } finally {
      setMlDsa44Backend(makeNobleMlDsa44({ deterministic: true }));
    }
  });
});
