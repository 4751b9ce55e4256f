// Node.js platform setup: the Promise.withResolvers polyfill and the node:crypto backends.
// Every Node entry point (CLI, server, tests) imports this first. The browser build does not
// (it keeps @noble/post-quantum on the calling thread; src/crypto/mldsa.ts stays free of node:).
import './polyfill.js';
import { setCryptoBackend } from './crypto/index.js';
import { nodeBackend, preloadGoEd25519 } from './crypto/node.js';
import { setMlDsa44Backend } from './crypto/mldsa.js';
import { nodeDefaultMlDsa44, preloadNobleMlDsa44 } from './crypto/mldsa-pool.js';

setCryptoBackend(nodeBackend);
// Without require(esm) (Node < 20.19 / 22.12), noble cannot load synchronously on first use:
// import it now (Ed25519 edge cases, ML-DSA-44). With require(esm) these resolve at once.
await Promise.all([preloadGoEd25519(), preloadNobleMlDsa44()]);
// ML-DSA-44: node:crypto where the runtime has it (Node >= 24.7; signAsync on the libuv pool),
// else noble with signAsync/verifyAsync on a small worker pool (started on first use), so that
// signing never blocks the event loop for milliseconds.
setMlDsa44Backend(nodeDefaultMlDsa44());
