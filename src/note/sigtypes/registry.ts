import type { SignatureScheme } from './scheme.js';
import { ed25519Scheme } from './ed25519.js';
import { ecdsaScheme } from './ecdsa.js';
import { cosignatureScheme } from './cosignature.js';
import { rfc6962Scheme } from './rfc6962.js';
import { mlDsa44Scheme } from './mldsa44.js';

// Adding a signature type (for example ML-DSA-44 subtree cosignatures, 0x06) means one new file
// implementing SignatureScheme and one line here.
const schemes = new Map<number, SignatureScheme>();

export function registerScheme(s: SignatureScheme): void {
  schemes.set(s.type, s);
}

export function schemeFor(type: number): SignatureScheme | undefined {
  return schemes.get(type);
}

for (const s of [ed25519Scheme, ecdsaScheme, cosignatureScheme, rfc6962Scheme, mlDsa44Scheme]) registerScheme(s);
