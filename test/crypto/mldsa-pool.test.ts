// The noble worker pool: same results as noble, off the event loop.
import { afterAll, describe, expect, it } from 'vitest';
import { makeNobleMlDsa44, nobleMlDsa44 } from '../../src/crypto/mldsa.js';
import { makeMlDsa44WorkerPool, nodeDefaultMlDsa44 } from '../../src/crypto/mldsa-pool.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
const msg = new TextEncoder().encode('subtree/v1 pool test');

describe('ML-DSA-44 worker pool', () => {
  const pool = makeMlDsa44WorkerPool({ size: 2 });
  const det = makeMlDsa44WorkerPool({ size: 1, deterministic: true });
  afterAll(async () => {
    await pool.close();
    await det.close();
  });

  it('signatures made in the workers verify with noble, and the workers verify noble signatures', async () => {
    const pub = nobleMlDsa44.publicKey(seed);
    const sigs = await Promise.all(Array.from({ length: 6 }, () => pool.signAsync(seed, msg)));
    for (const s of sigs) {
      expect(s).toBeInstanceOf(Uint8Array);
      expect(s.length).toBe(2420);
      expect(nobleMlDsa44.verify(pub, msg, s)).toBe(true);
    }
    expect(await pool.verifyAsync(pub, msg, nobleMlDsa44.sign(seed, msg))).toBe(true);
    const bad = sigs[0].slice();
    bad[10] ^= 1;
    expect(await pool.verifyAsync(pub, msg, bad)).toBe(false);
    expect(await pool.verifyAsync(pub, msg, bad.subarray(1))).toBe(false);
    expect(await pool.verifyAsync(new Uint8Array(1312), msg, sigs[0])).toBe(false);
  });

  it('deterministic mode gives the bytes noble gives on the main thread', async () => {
    expect(hex(await det.signAsync(seed, msg))).toBe(hex(makeNobleMlDsa44({ deterministic: true }).sign(seed, msg)));
  });

  it('refuses bad seeds like the other backends', async () => {
    await expect(pool.signAsync(new Uint8Array(31), msg)).rejects.toThrow(RangeError);
  });

  it('keeps the event loop responsive while signing (informational lag figure)', async () => {
    await pool.signAsync(seed, msg); // warm
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 1);
    const t = performance.now();
    await Promise.all(Array.from({ length: 16 }, () => pool.signAsync(seed, msg)));
    const elapsed = performance.now() - t;
    clearInterval(timer);
    console.log(`pool of ${pool.size}: 16 signatures in ${elapsed.toFixed(0)} ms; largest event-loop gap ${maxGap.toFixed(1)} ms`);
    // On the main thread the 16 signatures would be one block of about `elapsed` ms or more.
    // Loose bound: the machine is shared, so scheduling gaps happen; a main-thread signer would block for ~elapsed.
    expect(maxGap).toBeLessThan(Math.max(100, elapsed * 0.75));
  });

  it('nodeDefaultMlDsa44 picks node:crypto on Node >= 24.7, the pool before', async () => {
    const b = nodeDefaultMlDsa44();
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(b.name).toBe(major > 24 || (major === 24 && minor >= 7) ? 'node' : 'noble-pool');
    expect(nobleMlDsa44.verify(nobleMlDsa44.publicKey(seed), msg, await b.signAsync(seed, msg))).toBe(true);
    if ('close' in b) await (b as { close(): Promise<void> }).close();
  });

  it('close rejects later calls', async () => {
    const p = makeMlDsa44WorkerPool({ size: 1 });
    await p.close();
    await expect(p.signAsync(seed, msg)).rejects.toThrow(/closed/);
  });
});
