import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadSodium, nodeBackend, nodeCryptoBackend } from '../../src/crypto/node.js';
import { nobleBackend } from '../../src/crypto/noble.js';

interface SpeccheckCase { message: string; pub_key: string; signature: string; go: boolean }
const speccheck: { cases: SpeccheckCase[] } = JSON.parse(readFileSync(new URL('../fixtures/ed25519-speccheck.json', import.meta.url), 'utf8'));
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe.each([nodeBackend, nodeCryptoBackend, nobleBackend])('crypto backend $name', (b) => {
  it.each(speccheck.cases.map((c, i) => ({ i, c })))('ed25519 speccheck case $i gives Go\'s verdict', async ({ c }) => {
    expect(b.ed25519Verify(hex(c.pub_key), hex(c.message), hex(c.signature))).toBe(c.go);
    expect(await b.ed25519VerifyAsync(hex(c.pub_key), hex(c.message), hex(c.signature))).toBe(c.go);
  });

  it('sha256 known answers', () => {
    expect(Buffer.from(b.sha256(new Uint8Array())).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(Buffer.from(b.sha256Parts(Buffer.from('ab'), Buffer.from('c'))).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('ed25519 sign/verify round trip and rejects wrong lengths', () => {
    const seed = new Uint8Array(32).fill(7);
    const pub = b.ed25519PublicKey(seed);
    const msg = Buffer.from('hello');
    const sig = b.ed25519Sign(seed, msg);
    expect(b.ed25519Verify(pub, msg, sig)).toBe(true);
    expect(b.ed25519Verify(pub, Buffer.from('hellO'), sig)).toBe(false);
    expect(b.ed25519Verify(pub.subarray(1), msg, sig)).toBe(false);
    expect(b.ed25519Verify(pub, msg, sig.subarray(1))).toBe(false);
  });
});

describe('backends agree', () => {
  it('same keys and signatures from the same seed (RFC 8032 is deterministic)', () => {
    for (let i = 0; i < 50; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const msg = new Uint8Array(randomBytes(i * 7));
      expect(nobleBackend.ed25519PublicKey(seed)).toEqual(nodeBackend.ed25519PublicKey(seed));
      expect(nobleBackend.ed25519Sign(seed, msg)).toEqual(nodeBackend.ed25519Sign(seed, msg));
      expect(nodeCryptoBackend.ed25519Sign(seed, msg)).toEqual(nodeBackend.ed25519Sign(seed, msg));
    }
  });

  it('same verdicts on random and mutated signatures', () => {
    let valid = 0;
    for (let i = 0; i < 300; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const msg = new Uint8Array(randomBytes(16));
      const pub = nodeBackend.ed25519PublicKey(seed);
      const sig = nodeBackend.ed25519Sign(seed, msg);
      const mutated = new Uint8Array(sig);
      if (i % 3 === 1) mutated[i % 64] ^= 1 << (i % 8);
      if (i % 3 === 2) mutated.set(randomBytes(32), 32);
      const pk = i % 5 === 4 ? new Uint8Array(randomBytes(32)) : pub;
      const v = nodeBackend.ed25519Verify(pk, msg, mutated);
      if (v) valid++;
      expect(nobleBackend.ed25519Verify(pk, msg, mutated)).toBe(v);
      expect(nodeCryptoBackend.ed25519Verify(pk, msg, mutated)).toBe(v);
    }
    expect(valid).toBeGreaterThan(50);
  });
});

describe('SHA-256 through libsodium (short inputs, once it is loaded)', () => {
  it('gives the same digests as node:crypto and noble at every length around the switch, whole and in parts', () => {
    expect(loadSodium() !== null || process.env.GW_CRYPTO_SODIUM === '0').toBe(true);
    for (let n = 0; n <= 600; n += n < 300 ? 1 : 37) {
      const data = new Uint8Array(randomBytes(n));
      const want = nodeCryptoBackend.sha256(data);
      expect(nodeBackend.sha256(data), `length ${n}`).toEqual(want);
      expect(nobleBackend.sha256(data)).toEqual(want);
      const cut = n >> 1;
      expect(nodeBackend.sha256Parts(data.subarray(0, cut), data.subarray(cut)), `parts, length ${n}`).toEqual(want);
      expect(nodeBackend.sha256Parts(Uint8Array.of(1), data, Uint8Array.of(2))).toEqual(nodeCryptoBackend.sha256Parts(Uint8Array.of(1), data, Uint8Array.of(2)));
    }
  });

  it('a Merkle node (65 bytes) is hashed by libsodium, a 1 KiB input by node:crypto', () => {
    const na = loadSodium();
    if (!na) return expect(process.env.GW_CRYPTO_SODIUM).toBe('0');
    const spy = vi.spyOn(na, 'crypto_hash_sha256');
    try {
      nodeBackend.sha256Parts(Uint8Array.of(1), new Uint8Array(32), new Uint8Array(32));
      expect(spy).toHaveBeenCalledTimes(1);
      nodeBackend.sha256(new Uint8Array(1024));
      nodeCryptoBackend.sha256(new Uint8Array(65));
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});
