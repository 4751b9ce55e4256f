// ML-DSA-44 backends: @noble/post-quantum everywhere, node:crypto where the runtime has ML-DSA
// (Node >= 24.7). Same public key from the same seed, each verifies the other's signatures, and
// identical verdicts on tampered and malformed inputs. Run on Node 20 the node:crypto half skips.
import { describe, expect, it } from 'vitest';
import {
  MLDSA44_PUBLIC_KEY_SIZE,
  MLDSA44_SIGNATURE_SIZE,
  makeNobleMlDsa44,
  nobleMlDsa44,
  type MlDsa44Backend,
} from '../../src/crypto/mldsa.js';
import { nodeHasMlDsa44, nodeMlDsa44 } from '../../src/crypto/mldsa-node.js';
import { fixture } from '../helpers/fixtures.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const seeds = [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => i), Uint8Array.from({ length: 32 }, (_, i) => 255 - i * 7)];
const msgs = [new Uint8Array(0), new TextEncoder().encode('subtree/v1\n\0 example'), Uint8Array.from({ length: 1000 }, (_, i) => i * 31)];

const node = nodeMlDsa44();
const backends: MlDsa44Backend[] = [nobleMlDsa44, ...(node ? [node] : [])];

function flip(b: Uint8Array, i: number): Uint8Array {
  const c = b.slice();
  c[i % c.length] ^= 1 << (i % 8);
  return c;
}

describe.each(backends.map((b) => [b.name, b] as const))('%s backend', (_name, b) => {
  it('derives a 1312-byte public key and makes 2420-byte signatures that verify', async () => {
    for (const seed of seeds) {
      const pub = b.publicKey(seed);
      expect(pub.length).toBe(MLDSA44_PUBLIC_KEY_SIZE);
      for (const msg of msgs) {
        const sig = b.sign(seed, msg);
        expect(sig.length).toBe(MLDSA44_SIGNATURE_SIZE);
        expect(b.verify(pub, msg, sig)).toBe(true);
        expect(await b.verifyAsync(pub, msg, sig)).toBe(true);
        const asig = await b.signAsync(seed, msg);
        expect(b.verify(pub, msg, asig)).toBe(true);
      }
    }
  });
  it('rejects tampered signatures, messages and keys, and wrong lengths, without throwing', async () => {
    const seed = seeds[1];
    const pub = b.publicKey(seed);
    const msg = msgs[1];
    const sig = b.sign(seed, msg);
    for (const i of [0, 1, 100, 2000, 2419]) expect(b.verify(pub, msg, flip(sig, i)), `sig byte ${i}`).toBe(false);
    for (const i of [0, 5, 20]) expect(b.verify(pub, flip(msg, i), sig), `msg byte ${i}`).toBe(false);
    for (const i of [0, 40, 1311]) expect(b.verify(flip(pub, i), msg, sig), `key byte ${i}`).toBe(false);
    expect(b.verify(pub, msg, sig.subarray(1))).toBe(false);
    expect(b.verify(pub, msg, new Uint8Array([...sig, 0]))).toBe(false);
    expect(b.verify(pub.subarray(1), msg, sig)).toBe(false);
    expect(b.verify(new Uint8Array(0), msg, sig)).toBe(false);
    expect(b.verify(pub, msg, new Uint8Array(MLDSA44_SIGNATURE_SIZE))).toBe(false);
    expect(b.verify(b.publicKey(seeds[0]), msg, sig)).toBe(false);
    expect(await b.verifyAsync(pub, msg, sig.subarray(1))).toBe(false);
    expect(await b.verifyAsync(pub, msg, flip(sig, 7))).toBe(false);
  });
  it('refuses seeds that are not 32 bytes', async () => {
    expect(() => b.publicKey(new Uint8Array(31))).toThrow(RangeError);
    expect(() => b.sign(new Uint8Array(33), msgs[0])).toThrow(RangeError);
    await expect(b.signAsync(new Uint8Array(64), msgs[0])).rejects.toThrow(RangeError);
  });
});

describe('public key vectors (test/fixtures/mldsa44-keys.json)', () => {
  for (const v of fixture('mldsa44-keys.json').keygen) {
    const spki = new Uint8Array(Buffer.from(v.spki_b64, 'base64'));
    const pkcs8 = new Uint8Array(Buffer.from(v.pkcs8_seed_only_b64, 'base64'));
    it.each(backends.map((b) => [b.name, b] as const))(`%s derives ${v.source.split(':')[0]}'s public key for ${v.key_name}`, (_n, b) => {
      const seed = new Uint8Array(Buffer.from(v.seed_hex, 'hex'));
      expect(hex(pkcs8.subarray(pkcs8.length - 32))).toBe(v.seed_hex);
      // RFC 9881 SubjectPublicKeyInfo: the fixed 22-byte prefix our node backend uses, then the key.
      expect(hex(spki.subarray(0, 22))).toBe('30820532300b06096086480165030403110382052100');
      expect(hex(b.publicKey(seed))).toBe(hex(spki.subarray(22)));
    });
    it.skipIf(node === null)('node:crypto imports the same PKCS#8 bytes we build (seed-only form)', async () => {
      const { createPrivateKey, createPublicKey, sign } = await import('node:crypto');
      const k = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
      expect(hex(createPublicKey(k).export({ format: 'der', type: 'spki' }))).toBe(hex(spki));
      const msg = new Uint8Array([1, 2, 3]);
      expect(nobleMlDsa44.verify(spki.subarray(22), msg, sign(null, msg, k))).toBe(true);
    });
  }
});

describe('noble, deterministic mode', () => {
  it('same seed and message give the same bytes; hedged mode does not', () => {
    const det = makeNobleMlDsa44({ deterministic: true });
    expect(hex(det.sign(seeds[2], msgs[1]))).toBe(hex(det.sign(seeds[2], msgs[1])));
    expect(hex(nobleMlDsa44.sign(seeds[2], msgs[1]))).not.toBe(hex(nobleMlDsa44.sign(seeds[2], msgs[1])));
    expect(nobleMlDsa44.verify(det.publicKey(seeds[2]), msgs[1], det.sign(seeds[2], msgs[1]))).toBe(true);
  });
});

describe.skipIf(node === null)(`noble ↔ node:crypto (runtime ${process.version}${node ? '' : ': no ML-DSA, skipped'})`, () => {
  const n = node as MlDsa44Backend;
  const det = makeNobleMlDsa44({ deterministic: true });
  it('derive the same public key from the same seed', () => {
    for (const seed of seeds) expect(hex(n.publicKey(seed))).toBe(hex(nobleMlDsa44.publicKey(seed)));
    for (let i = 0; i < 20; i++) {
      const seed = Uint8Array.from({ length: 32 }, (_, j) => (i * 37 + j * 11) & 255);
      expect(hex(n.publicKey(seed))).toBe(hex(nobleMlDsa44.publicKey(seed)));
    }
  });
  it('each verifies the other\'s signatures', async () => {
    for (const seed of seeds) {
      const pub = nobleMlDsa44.publicKey(seed);
      for (const msg of msgs) {
        expect(nobleMlDsa44.verify(pub, msg, n.sign(seed, msg))).toBe(true);
        expect(nobleMlDsa44.verify(pub, msg, await n.signAsync(seed, msg))).toBe(true);
        expect(n.verify(pub, msg, nobleMlDsa44.sign(seed, msg))).toBe(true);
        expect(n.verify(pub, msg, det.sign(seed, msg))).toBe(true);
      }
    }
  });
  it('identical verdicts on tampered and malformed inputs', () => {
    const seed = seeds[1];
    const pub = nobleMlDsa44.publicKey(seed);
    const msg = msgs[2];
    const sigs = [n.sign(seed, msg), nobleMlDsa44.sign(seed, msg)];
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [];
    for (const sig of sigs) {
      cases.push([pub, msg, sig]);
      for (let i = 0; i < MLDSA44_SIGNATURE_SIZE; i += 97) cases.push([pub, msg, flip(sig, i)]);
      for (let i = 0; i < MLDSA44_PUBLIC_KEY_SIZE; i += 131) cases.push([flip(pub, i), msg, sig]);
      cases.push([pub, flip(msg, 3), sig], [pub, msg, sig.subarray(0, 2419)], [pub.subarray(0, 1311), msg, sig]);
      // Signature hint bytes (the last 84 bytes: omega + k) out of range: malformed encodings.
      const badHint = sig.slice();
      badHint.fill(0xff, MLDSA44_SIGNATURE_SIZE - 4);
      cases.push([pub, msg, badHint]);
      cases.push([pub, msg, new Uint8Array(MLDSA44_SIGNATURE_SIZE).fill(0xff)]);
    }
    cases.push([new Uint8Array(MLDSA44_PUBLIC_KEY_SIZE), msg, sigs[0]], [new Uint8Array(MLDSA44_PUBLIC_KEY_SIZE).fill(0xff), msg, sigs[1]]);
    let valid = 0;
    for (const [k, m, s] of cases) {
      const a = nobleMlDsa44.verify(k, m, s);
      expect(n.verify(k, m, s), `case ${valid}`).toBe(a);
      if (a) valid++;
    }
    expect(valid).toBe(2);
  });
});

describe('speed (informational)', () => {
  it.each(backends.map((b) => [b.name, b] as const))('%s', async (_name, b) => {
    const seed = seeds[1];
    const pub = b.publicKey(seed);
    const msg = msgs[1];
    b.sign(seed, msg);
    const N = 20;
    let t = performance.now();
    let sig: Uint8Array = new Uint8Array();
    for (let i = 0; i < N; i++) sig = b.sign(seed, msg);
    const signMs = (performance.now() - t) / N;
    t = performance.now();
    for (let i = 0; i < N; i++) b.verify(pub, msg, sig);
    const verifyMs = (performance.now() - t) / N;
    t = performance.now();
    await Promise.all(Array.from({ length: N }, () => b.signAsync(seed, msg)));
    const asyncMs = (performance.now() - t) / N;
    console.log(`ML-DSA-44 ${b.name} on ${process.version}: sign ${signMs.toFixed(2)} ms, verify ${verifyMs.toFixed(2)} ms, signAsync x${N} concurrent ${asyncMs.toFixed(2)} ms each`);
    expect(signMs).toBeGreaterThan(0);
  });
});

it('nodeHasMlDsa44 matches the runtime', () => {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 24 || (major === 24 && minor < 7)) expect(nodeHasMlDsa44()).toBe(false);
  else expect(nodeHasMlDsa44()).toBe(true);
});
