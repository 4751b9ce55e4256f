// gossip-witness/client: verify that a checkpoint is cosigned by enough independent witnesses
// (c2sp.org/tlog-policy and Sigsum policies), that an entry is included in such a checkpoint,
// and gather cosignatures from the witnesses of a policy or from distributors. See docs/client.md.
//
// Everything here except gatherCosignatures / tilesConsistencySource is pure (no file or network
// access) and imports no Node-only module, so it runs in browsers (dist/browser/client.js).
// Every error thrown here is a GossipWitnessError: switch on `code`, or on `kind` (docs/errors.md).
// The portable crypto default (noble) unless a Node entry point has set node:crypto already.
import '../crypto/noble-default.js';
export { BaseError, GossipWitnessError, ERROR_CODES, kindOf, type ErrorCode, type ErrorKind } from '../errors.js';
export { parsePolicy, Policy, PolicyError, POLICY_LIMITS, sigsumOrigin, cosignatureKeyId } from './parse.js';
export type { ParseOptions, PolicyDialect, PolicyErrorCode, PolicyLog, PolicyWitness, PolicyGroup, PolicyNode } from './parse.js';
export { verifyCosignedCheckpoint } from './verify.js';
export type { PolicyVerification, VerifyOptions, VerifyErrorCode, WitnessResult, WitnessStatus, GroupResult } from './verify.js';
export {
  parseInclusionProof,
  formatInclusionProof,
  verifyInclusionInCheckpoint,
  verifyInclusionAgainst,
  verifyEntryInclusion,
  ProofFormatError,
} from './inclusion.js';
export type { InclusionProof, InclusionEntry, InclusionResult, EntryVerification } from './inclusion.js';
export { gatherCosignatures, monitoringUrl, distributorCheckpointUrl, tilesConsistencySource } from './fetch.js';
export type {
  FetchLike,
  FetchResponseLike,
  ConsistencySource,
  GatherOptions,
  GatherResult,
  Candidate,
  Disagreement,
  WitnessResponse,
  DistributorResponse,
  ResponseStatus,
} from './fetch.js';
export { encodeEvidence, decodeEvidence, verifyEvidence, type Evidence } from '../witness/evidence.js';
export { setCryptoBackend, cryptoBackend, type CryptoBackend } from '../crypto/index.js';
// ML-DSA-44 (0x06) verification: noble by default; Node >= 24.7 can use node:crypto
// (gossip-witness/client/node-mldsa: setMlDsa44Backend(nodeMlDsa44() ?? nobleMlDsa44)).
export { setMlDsa44Backend, mlDsa44, nobleMlDsa44, type MlDsa44Backend } from '../crypto/mldsa.js';
// c2sp.org/tlog-proof@v1 (.tlog-proof files): parse, produce, verify offline against a policy.
export { parseTlogProof, formatTlogProof, verifyTlogProof, isTlogProof, tlogProofCheckpoint, TlogProofError, TLOG_PROOF_HEADER, MAX_TLOG_PROOF_BYTES } from './tlog-proof.js';
export type { TlogProof, TlogProofVerification, TlogProofVerifyOptions } from './tlog-proof.js';
// Sigsum proof files (sigsum-submit writes them, sigsum-verify reads them), verified with a Sigsum policy.
export { parseSigsumProof, verifySigsumProof, isSigsumProof, parseOpenSshEd25519, SigsumProofError } from './sigsum-proof.js';
export type { SigsumProof, SigsumProofVerification, SigsumMessage } from './sigsum-proof.js';
