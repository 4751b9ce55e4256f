// The package's Node entry point: the format layer, the witness core and the stores.
// Browsers and clients use "gossip-witness/client" (src/policy/), which has no Node-only imports.
import './platform.js';

export * from './note/index.js';
export * from './checkpoint/index.js';
export { hashLeaf, hashChildren, treeHash, EMPTY_ROOT, verifyInclusion, verifyConsistency, consistencyRoots, inclusionProof, consistencyProof, MemoryTree } from './merkle/index.js';
export * from './witness/witness.js';
export * from './witness/evidence.js';
export * from './witness/request.js';
export type * from './witness/store.js';
export { MemoryStore } from './store/memory.js';
export { LevelStore } from './store/level.js';
export { PostgresStore, PostgresStoreError } from './store/postgres.js';
export { cryptoBackend, setCryptoBackend, type CryptoBackend } from './crypto/index.js';
