// The portable defaults for the client entry (and the browser bundle, which cannot load modules
// synchronously on demand): noble for Ed25519/ECDSA, unless an entry point (src/platform.ts on
// Node) has set a backend already, and @noble/post-quantum for ML-DSA-44.
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { hasCryptoBackend, setCryptoBackend } from './index.js';
import { provideNobleMlDsa44 } from './mldsa.js';
import { nobleBackend } from './noble.js';

if (!hasCryptoBackend()) setCryptoBackend(nobleBackend);
provideNobleMlDsa44(ml_dsa44);
