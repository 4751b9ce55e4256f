import type { CryptoBackend } from './backend.js';

export type { CryptoBackend } from './backend.js';

// Set by the entry point: src/platform.ts (every Node entry) sets node:crypto; the client entry
// (src/policy/index.ts, also the browser bundle) sets noble through ./noble-default.ts unless one
// is set already. No static default here, so a Node server never loads @noble/curves.
let current: CryptoBackend | undefined;

export function cryptoBackend(): CryptoBackend {
  if (!current) {
    throw new Error(
      'gossip-witness: no crypto backend set; import gossip-witness (Node), gossip-witness/client, or call setCryptoBackend first',
    );
  }
  return current;
}

export function hasCryptoBackend(): boolean {
  return current !== undefined;
}

export function setCryptoBackend(b: CryptoBackend): void {
  current = b;
}

export function sha256(data: Uint8Array): Uint8Array {
  return cryptoBackend().sha256(data);
}
