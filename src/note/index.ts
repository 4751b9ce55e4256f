export * from './errors.js';
export * from './keys.js';
export * from './note.js';
export { cosignatureMessage, cosignatureTimestamp, COSIGNATURE_V1 } from './sigtypes/cosignature.js';
export { ED25519 } from './sigtypes/ed25519.js';
export { ECDSA } from './sigtypes/ecdsa.js';
export { RFC6962 } from './sigtypes/rfc6962.js';
export { registerScheme, schemeFor } from './sigtypes/registry.js';
export type { SignatureScheme } from './sigtypes/scheme.js';
