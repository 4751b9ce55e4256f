// src/platform.ts selects the ML-DSA-44 backend for Node entry points (issue 14): node:crypto
// where the runtime has it (Node >= 24.7), else @noble/post-quantum on worker threads; the
// browser entry (src/policy/index.ts) does not import platform.ts or any node: module through it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mlDsa44 } from '../../src/crypto/mldsa.js';
import { nodeHasMlDsa44 } from '../../src/crypto/mldsa-node.js';

describe('ML-DSA-44 backend of Node entry points', () => {
  it(`is node:crypto on runtimes that have it, the noble worker pool otherwise (here: Node ${process.versions.node})`, async () => {
    expect(mlDsa44().name).toBe(nodeHasMlDsa44() ? 'node' : 'noble-pool');
    const [maj, min] = process.versions.node.split('.').map(Number);
    if (maj > 24 || (maj === 24 && min >= 7)) expect(mlDsa44().name).toBe('node');
    // signAsync answers (off the event loop) and verifies.
    const seed = new Uint8Array(32).fill(1);
    const msg = new TextEncoder().encode('subtree');
    const sig = await mlDsa44().signAsync(seed, msg);
    expect(mlDsa44().verify(mlDsa44().publicKey(seed), msg, sig)).toBe(true);
  });

  it('the browser entry does not import platform.ts', () => {
    const src = readFileSync(new URL('../../src/policy/index.ts', import.meta.url), 'utf8');
    expect(src).not.toMatch(/platform|mldsa-pool|mldsa-node/);
  });
});
