import type { CryptoBackend } from './backend.js';
import { nobleBackend } from './noble.js';

export type { CryptoBackend } from './backend.js';

// Portable default; Node entry points switch to node:crypto via src/platform.ts.
let current: CryptoBackend = nobleBackend;

export function cryptoBackend(): CryptoBackend {
  return current;
}

export function setCryptoBackend(b: CryptoBackend): void {
  current = b;
}

export function sha256(data: Uint8Array): Uint8Array {
  return current.sha256(data);
}
