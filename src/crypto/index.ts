import type { CryptoBackend } from './backend.js';

export type { CryptoBackend } from './backend.js';

// Set by the entry point: src/platform.ts (every Node entry) sets node:crypto; the client entry
// (src/policy/index.ts, also the browser bundle) sets noble through ./noble-default.ts unless one
// is set already. No static default here, so a Node server never loads @noble/curves. Code that
// imports modules directly without either (scripts, test children) gets noble on first use.
let current: CryptoBackend | undefined;

export function cryptoBackend(): CryptoBackend {
  return current ?? (current = portableDefault());
}

type GetBuiltin = (id: string) => { createRequire(url: string): (id: string) => { nobleBackend: CryptoBackend } };

function portableDefault(): CryptoBackend {
  // Synchronous load without a node: import (this file is in the browser bundle, where the client
  // entry has set noble already): process.getBuiltinModule (Node >= 20.16) and require(esm).
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process?.getBuiltinModule;
  if (typeof getBuiltin !== 'function') {
    throw new Error('gossip-witness: no crypto backend set; import gossip-witness/client or call setCryptoBackend first');
  }
  return getBuiltin('node:module').createRequire(import.meta.url)('./noble.js').nobleBackend;
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
