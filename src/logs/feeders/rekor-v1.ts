// Rekor v1 (Sigstore, Trillian-backed, sharded) as a feeder source (protocols.md §7.1):
//   GET <url>/api/v1/log           LogInfo JSON: {rootHash, treeSize, signedTreeHead, treeID,
//                                  inactiveShards: [{rootHash, treeSize, signedTreeHead, treeID}]}
//   GET <url>/api/v1/log/proof?firstSize=&lastSize=&treeID=
//                                  ConsistencyProof JSON: {rootHash, hashes: [hex, ...]}
// The shard followed is the one whose treeID matches the configured one, active or inactive
// (an inactive shard is frozen: its checkpoint stops changing). Its signedTreeHead is the
// checkpoint, an ECDSA (0x02) signed note with origin "<host> - <treeID>".
// Proof hashes are hex (not base64). firstSize=0 is never requested: from the empty tree the
// proof is empty and the feeder does not ask.
import type { Checkpoint } from '../../checkpoint/checkpoint.js';
import { fromHex, utf8, decodeUtf8 } from '../../util/bytes.js';
import { FeedError, httpGet, joinUrl, type HttpSettings } from './http.js';
import type { LogSource, ProofAttempt, ProofOptions } from './source.js';

export const MAX_LOG_INFO_BYTES = 256 * 1024;
export const MAX_PROOF_BYTES = 64 * 1024;
/** A tree of 2^63 leaves needs at most 63 proof hashes (tlog-witness caps requests at 63). */
export const MAX_PROOF_HASHES = 63;

export interface RekorShard {
  readonly treeID: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly signedTreeHead: string;
  readonly active: boolean;
}

/** The tree ID in a Rekor origin "<host> - <treeID>", if it has that form. */
export function treeIdFromOrigin(origin: string): string | undefined {
  return / - ([0-9]{1,20})$/.exec(origin)?.[1];
}

function parseJson(body: Uint8Array, what: string): unknown {
  const text = decodeUtf8(body);
  if (text === null) throw new FeedError('malformed', `${what}: not UTF-8`);
  try {
    return JSON.parse(text);
  } catch {
    throw new FeedError('malformed', `${what}: not JSON`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseShard(v: unknown, active: boolean, what: string): RekorShard {
  if (!isObject(v)) throw new FeedError('malformed', `${what}: not an object`);
  const { treeID, treeSize, rootHash, signedTreeHead } = v;
  if (typeof treeID !== 'string' || !/^[0-9]{1,20}$/.test(treeID)) throw new FeedError('malformed', `${what}: treeID must be a decimal string`);
  if (typeof treeSize !== 'number' || !Number.isSafeInteger(treeSize) || treeSize < 0) throw new FeedError('malformed', `${what}: treeSize must be a non-negative integer`);
  if (typeof rootHash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(rootHash)) throw new FeedError('malformed', `${what}: rootHash must be 64 hex digits`);
  if (typeof signedTreeHead !== 'string' || signedTreeHead === '') throw new FeedError('malformed', `${what}: signedTreeHead must be a non-empty string`);
  return { treeID, treeSize, rootHash, signedTreeHead, active };
}

/** Parses a /api/v1/log answer into its shards (the active one first). Throws FeedError('malformed'). */
export function parseLogInfo(body: Uint8Array): RekorShard[] {
  const v = parseJson(body, 'log info');
  if (!isObject(v)) throw new FeedError('malformed', 'log info: not a JSON object');
  const shards = [parseShard(v, true, 'log info')];
  if (v.inactiveShards !== undefined && v.inactiveShards !== null) {
    if (!Array.isArray(v.inactiveShards)) throw new FeedError('malformed', 'log info: inactiveShards must be an array');
    if (v.inactiveShards.length > 1000) throw new FeedError('malformed', 'log info: too many inactive shards');
    v.inactiveShards.forEach((s, i) => shards.push(parseShard(s, false, `log info: inactiveShards[${i}]`)));
  }
  return shards;
}

/** Parses a /api/v1/log/proof answer: hex hashes of 32 bytes. Throws FeedError('malformed'). */
export function parseConsistencyProof(body: Uint8Array): { rootHash?: Uint8Array; hashes: Uint8Array[] } {
  const v = parseJson(body, 'consistency proof');
  if (!isObject(v) || !Array.isArray(v.hashes)) throw new FeedError('malformed', 'consistency proof: want {"rootHash": ..., "hashes": [...]}');
  if (v.hashes.length > MAX_PROOF_HASHES) throw new FeedError('malformed', `consistency proof: more than ${MAX_PROOF_HASHES} hashes`);
  const hashes = v.hashes.map((h, i) => {
    const b = typeof h === 'string' && /^[0-9a-fA-F]{64}$/.test(h) ? fromHex(h.toLowerCase()) : null;
    if (b === null) throw new FeedError('malformed', `consistency proof: hashes[${i}] is not 64 hex digits`);
    return b;
  });
  let rootHash: Uint8Array | undefined;
  if (typeof v.rootHash === 'string' && /^[0-9a-fA-F]{64}$/.test(v.rootHash)) rootHash = fromHex(v.rootHash.toLowerCase()) ?? undefined;
  return { ...(rootHash ? { rootHash } : {}), hashes };
}

export interface RekorSourceOptions {
  readonly url: string;
  /** The shard to follow; undefined follows the active shard. */
  readonly treeID?: string;
  readonly http: HttpSettings;
}

export class RekorV1Source implements LogSource {
  readonly type = 'rekor-v1' as const;
  readonly url: string;
  readonly treeID: string | undefined;
  private readonly http: HttpSettings;
  /** The tree ID of the shard last picked (proof requests name it). */
  private currentTreeID: string | undefined;

  constructor(opts: RekorSourceOptions) {
    this.url = opts.url;
    this.treeID = opts.treeID;
    this.currentTreeID = opts.treeID;
    this.http = opts.http;
  }

  async latest(signal?: AbortSignal): Promise<Uint8Array> {
    const res = await httpGet(this.http, joinUrl(this.url, 'api/v1/log'), MAX_LOG_INFO_BYTES, signal);
    const shards = parseLogInfo(res.body);
    const shard = this.treeID === undefined ? shards[0] : shards.find((s) => s.treeID === this.treeID);
    if (!shard) {
      throw new FeedError('malformed', `log info has no shard with treeID ${this.treeID} (shards: ${shards.map((s) => s.treeID).join(', ')})`);
    }
    this.currentTreeID = shard.treeID;
    return utf8(shard.signedTreeHead);
  }

  async proof(oldSize: bigint, cp: Checkpoint, opts: ProofOptions = {}): Promise<ProofAttempt> {
    // SPEC (protocols.md §7.1): firstSize has a minimum of 1; never call it with 0.
    if (oldSize <= 0n || oldSize >= cp.size) throw new RangeError(`no proof to fetch from ${oldSize} to ${cp.size}`);
    const q = new URLSearchParams({ firstSize: oldSize.toString(), lastSize: cp.size.toString() });
    if (this.currentTreeID !== undefined) q.set('treeID', this.currentTreeID);
    const res = await httpGet(this.http, `${joinUrl(this.url, 'api/v1/log/proof')}?${q}`, MAX_PROOF_BYTES, opts.signal);
    const { hashes } = parseConsistencyProof(res.body);
    return { proof: hashes, fromCache: false, settle() {} };
  }
}

export function createRekorV1Source(opts: RekorSourceOptions): RekorV1Source {
  return new RekorV1Source(opts);
}
