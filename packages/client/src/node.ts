// The client's `node` export condition: the same API as the portable entry, with node:crypto for
// SHA-256, Ed25519 and ECDSA, and for ML-DSA-44 where the runtime has it (Node >= 24.7; ML-DSA
// verify is about 0.19 ms native against 2.4 ms in noble). Older Node keeps noble for ML-DSA.
import { setCryptoBackend } from '../../../src/crypto/index.js';
import { nodeBackend } from '../../../src/crypto/node.js';
import { setMlDsa44Backend, nobleMlDsa44 } from '../../../src/crypto/mldsa.js';
import { nodeMlDsa44 } from '../../../src/crypto/mldsa-node.js';

setCryptoBackend(nodeBackend);
setMlDsa44Backend(nodeMlDsa44() ?? nobleMlDsa44);

export * from '../../../src/policy/index.js';
