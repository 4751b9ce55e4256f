// Sigsum proof files: what sigsum-go's `sigsum-submit` writes and `sigsum-verify` reads
// (sigsum-go pkg/proof, version 2; version 1 is read too). Key=value ASCII lines:
//
//   version=2
//   log=<hex SHA-256 of the log key>
//   leaf=<hex SHA-256 of the submitter key> <hex leaf signature>
//                                                   (empty line)
//   size=<decimal>
//   root_hash=<hex>
//   signature=<hex log signature>
//   cosignature=<hex witness key hash> <decimal timestamp> <hex signature>   (zero or more)
//                                                   (empty line; absent for a one-leaf tree)
//   leaf_index=<decimal>
//   node_hash=<hex>                                 (zero or more)
//
// Verification is sigsum-verify's: the leaf (checksum = SHA-256(SHA-256(message)), signed by a
// submitter key the caller trusts under the namespace "sigsum.org/v1/tree-leaf"), the tree head
// (a checkpoint of origin sigsum.org/v1/tree/<hex key hash>, signed by a policy log key), the
// cosignatures (cosignature/v1 over that checkpoint), k-of-n by the SAME policy evaluation as any
// checkpoint (verifyCosignedCheckpoint: the tree head is turned into its checkpoint note), and the
// RFC 6962 inclusion of the leaf hash SHA-256(0x00 || checksum || signature || key hash).
// Cosignature age is not checked (as for tlog-proofs).
//
// Pure: no file or network access, no Node-only module.
import { sha256, cryptoBackend } from '../crypto/index.js';
import { parseTreeSize, MAX_TREE_SIZE } from '../checkpoint/checkpoint.js';
import { concatBytes, decodeBase64, decodeUtf8, encodeBase64, fromHex, toHex, u32be, u64be, utf8 } from '../util/bytes.js';
import { hashLeaf } from '../merkle/index.js';
import { sigsumOrigin, cosignatureKeyId, type Policy } from './parse.js';
import { verifyCosignedCheckpoint, type VerifyOptions } from './verify.js';
import { verifyEntryInclusion, ProofFormatError, type EntryVerification } from './inclusion.js';

export class SigsumProofError extends ProofFormatError {
  constructor(message: string) {
    super(message);
    this.name = 'SigsumProofError';
  }
}

export interface SigsumProof {
  readonly version: 1 | 2;
  readonly logKeyHash: Uint8Array;
  readonly leaf: { readonly keyHash: Uint8Array; readonly signature: Uint8Array };
  readonly size: bigint;
  readonly rootHash: Uint8Array;
  readonly signature: Uint8Array;
  readonly cosignatures: readonly { readonly keyHash: Uint8Array; readonly timestamp: bigint; readonly signature: Uint8Array }[];
  readonly leafIndex: bigint;
  readonly nodeHashes: readonly Uint8Array[];
}

/** True when the input starts like a Sigsum proof ("version=" on the first line). */
export function isSigsumProof(input: string | Uint8Array): boolean {
  const head = typeof input === 'string' ? input.slice(0, 16) : decodeUtf8(input.subarray(0, 16)) ?? '';
  return /^version=[0-9]+\n/.test(head);
}

const HEX32 = /^[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{128}$/;

/** Parses a Sigsum proof file, strictly (lowercase hex, decimal without leading zeroes, \n line ends). */
export function parseSigsumProof(input: string | Uint8Array): SigsumProof {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (text === null) throw new SigsumProofError('proof is not UTF-8');
  if (text.length > 100_000) throw new SigsumProofError('proof is larger than 100000 bytes');
  if (!text.endsWith('\n')) throw new SigsumProofError('proof must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  let i = 0;
  const fail = (msg: string): never => {
    throw new SigsumProofError(`line ${i + 1}: ${msg}`);
  };
  const value = (key: string): string => {
    if (i >= lines.length) fail(`missing ${key}=`);
    const line = lines[i];
    if (!line.startsWith(key + '=')) fail(`expected ${key}=...`);
    return line.slice(key.length + 1);
  };
  const hex = (s: string, re: RegExp, what: string): Uint8Array => (re.test(s) ? fromHex(s)! : fail(`${what}: not ${re === HEX32 ? 32 : 64} bytes of lowercase hex`));
  const dec = (s: string, what: string): bigint => parseTreeSize(s) ?? fail(`${what}: not a decimal number without leading zeroes`);
  const empty = () => (lines[i] === '' ? i++ : fail('expected an empty line'));

  const version = value('version');
  if (version !== '1' && version !== '2') fail(`unknown version ${JSON.stringify(version)} (1 and 2 are known)`);
  i++;
  const logKeyHash = hex(value('log'), HEX32, 'log');
  i++;
  const lv = value('leaf').split(' ');
  if (version === '1') {
    if (lv.length !== 3 || !/^[0-9a-f]{4}$/.test(lv[0])) fail('leaf: version 1 needs <4 hex short checksum> <key hash> <signature>');
    lv.shift();
  } else if (lv.length !== 2) fail('leaf: needs <key hash> <signature>');
  const leaf = { keyHash: hex(lv[0], HEX32, 'leaf key hash'), signature: hex(lv[1], HEX64, 'leaf signature') };
  i++;
  empty();
  const size = dec(value('size'), 'size');
  if (size === 0n) fail('size: the tree is empty');
  i++;
  const rootHash = hex(value('root_hash'), HEX32, 'root_hash');
  i++;
  const signature = hex(value('signature'), HEX64, 'signature');
  i++;
  const cosignatures: SigsumProof['cosignatures'][number][] = [];
  const seen = new Set<string>();
  while (i < lines.length && lines[i] !== '') {
    const cv = value('cosignature').split(' ');
    if (cv.length !== 3) fail('cosignature: needs <key hash> <timestamp> <signature>');
    if (seen.has(cv[0])) fail('duplicate cosignature key hash');
    seen.add(cv[0]);
    const ts = /^(0|[1-9][0-9]{0,19})$/.test(cv[1]) ? BigInt(cv[1]) : fail('cosignature timestamp: not a decimal number');
    if (ts >= 1n << 64n) fail('cosignature timestamp: out of range');
    cosignatures.push({ keyHash: hex(cv[0], HEX32, 'cosignature key hash'), timestamp: ts, signature: hex(cv[2], HEX64, 'cosignature signature') });
    i++;
  }
  let leafIndex = 0n;
  const nodeHashes: Uint8Array[] = [];
  if (size === 1n) {
    if (i < lines.length) fail('a one-leaf tree has no inclusion proof part');
  } else {
    if (i >= lines.length) fail('missing the inclusion proof part');
    empty();
    leafIndex = dec(value('leaf_index'), 'leaf_index');
    i++;
    while (i < lines.length) {
      if (nodeHashes.length === 63) fail('more than 63 node hashes');
      nodeHashes.push(hex(value('node_hash'), HEX32, 'node_hash'));
      i++;
    }
  }
  if (leafIndex >= size || size > MAX_TREE_SIZE) throw new SigsumProofError(`leaf_index ${leafIndex} is not below size ${size}`);
  return { version: Number(version) as 1 | 2, logKeyHash, leaf, size, rootHash, signature, cosignatures, leafIndex, nodeHashes };
}

/** Parses an OpenSSH Ed25519 public key line ("ssh-ed25519 AAAA... [comment]"), as sigsum-key writes. */
export function parseOpenSshEd25519(line: string): Uint8Array | null {
  const m = /^ssh-ed25519 ([A-Za-z0-9+/]+={0,2})(?: .*)?$/.exec(line.trim());
  const blob = m ? decodeBase64(m[1]) : null;
  if (!blob || blob.length !== 51) return null;
  const expect = concatBytes(u32be(11), utf8('ssh-ed25519'), u32be(32));
  for (let k = 0; k < expect.length; k++) if (blob[k] !== expect[k]) return null;
  return blob.slice(19);
}

const LEAF_NAMESPACE = utf8('sigsum.org/v1/tree-leaf\0');

export type SigsumMessage = { readonly message: Uint8Array } | { readonly messageHash: Uint8Array };

export interface SigsumProofVerification extends Omit<EntryVerification, 'code'> {
  /** EntryVerification's codes, plus 'leaf': an untrusted submitter key or a bad leaf signature. */
  readonly code?: EntryVerification['code'] | 'leaf';
  readonly proof?: SigsumProof;
}

/**
 * Verifies a Sigsum proof like sigsum-verify: `message` is the signed data (or `messageHash`, its
 * SHA-256, like --raw-hash), `submitKeys` the submitters' Ed25519 keys the caller trusts. Never
 * throws on bad input: an unparsable proof is 'malformed', an untrusted or bad leaf signature is
 * 'leaf' (this module's own code), the rest are the policy codes and 'inclusion'.
 */
export function verifySigsumProof(
  input: string | Uint8Array | SigsumProof,
  policy: Policy,
  msg: SigsumMessage,
  submitKeys: readonly Uint8Array[],
  opts: Omit<VerifyOptions, 'maxAge' | 'clockSkew' | 'now'> = {},
): SigsumProofVerification {
  const base = verifyCosignedCheckpoint('', policy);
  let p: SigsumProof;
  try {
    p = typeof input === 'string' || input instanceof Uint8Array ? parseSigsumProof(input) : input;
  } catch (e) {
    return { ...base, ok: false, code: 'malformed', reason: `not a Sigsum proof: ${(e as Error).message}` };
  }
  const messageHash = 'message' in msg ? sha256(msg.message) : msg.messageHash;
  const checksum = sha256(messageHash);
  const submitter = submitKeys.find((k) => toHex(sha256(k)) === toHex(p.leaf.keyHash));
  if (!submitter) return { ...base, ok: false, code: 'leaf', reason: 'the leaf was signed by a submitter key that is not trusted', proof: p };
  if (!cryptoBackend().ed25519Verify(submitter, concatBytes(LEAF_NAMESPACE, checksum), p.leaf.signature)) {
    return { ...base, ok: false, code: 'leaf', reason: 'the leaf signature does not verify for this message and submitter key', proof: p };
  }
  // The tree head as its checkpoint note, so that the policy is evaluated exactly as for any checkpoint.
  const origin = `sigsum.org/v1/tree/${toHex(p.logKeyHash)}`;
  const text = `${origin}\n${p.size}\n${encodeBase64(p.rootHash)}\n`;
  const sigLines: string[] = [];
  for (const log of policy.logsForOrigin(origin)) {
    if (sigsumOrigin(log.verifier.key) !== origin) continue;
    sigLines.push(`\u2014 ${log.verifier.name} ${encodeBase64(concatBytes(u32be(log.verifier.keyId), p.signature))}\n`);
  }
  for (const c of p.cosignatures) {
    const w = policy.witnesses.find((x) => x.publicKey.length === 32 && toHex(sha256(x.publicKey)) === toHex(c.keyHash));
    if (!w) continue; // a witness the policy does not know: ignored, as unknown lines are
    const name = w.verifier?.name ?? 'sigsum-witness';
    const keyId = w.verifier?.keyId ?? cosignatureKeyId(name, w.publicKey);
    sigLines.push(`\u2014 ${name} ${encodeBase64(concatBytes(u32be(keyId), u64be(c.timestamp), c.signature))}\n`);
  }
  if (sigLines.length === 0) return { ...base, ok: false, code: 'log-signature', reason: `no policy log has the key hash ${toHex(p.logKeyHash)}`, proof: p };
  const note = `${text}\n${sigLines.join('')}`;
  const leafHash = hashLeaf(concatBytes(checksum, p.leaf.signature, p.leaf.keyHash));
  const v = verifyEntryInclusion(note, policy, { leafHash }, { leafIndex: p.leafIndex, hashes: p.nodeHashes }, opts);
  return { ...v, proof: p };
}
