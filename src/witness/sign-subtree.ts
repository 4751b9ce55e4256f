// POST <prefix>/sign-subtree (c2sp.org/tlog-witness at C2SP 5ba5ee83, "sign-subtree"), transport-free:
// bytes and a client id in, a typed result out. Status codes live in src/http/status.ts.
//
// Checks run in the order the spec lists them, and each answer is the first failing one:
//   1. 400: the body (parseSignSubtreeBody: syntax, ≤ 63 proof lines, [start, end) a subtree per
//      draft-ietf-plants-merkle-tree-certs-03 §4.1, end ≤ the checkpoint size);
//   2. 422: the subtree consistency proof (draft -03 §4.4) does not verify;
//   3. 404: the checkpoint origin is unknown;
//   4. 403: no valid cosignature by one of this witness's own keys on the reference checkpoint;
//   5. 200: subtree/v1 lines (timestamp 0) from the witness's ML-DSA-44 key(s).
// The cheap checks (parsing, hashing, a lookup) come before the signature checks, which is also
// the spec's order. Between 3 and 4: the answer cache, then the per-client rate limit (a cache miss
// costs a signature verification and an ML-DSA-44 signature, which anyone holding a public
// cosigned checkpoint can ask for).
//
// Stateless (the spec needs no state): the reference checkpoint need not be the stored one, and
// nothing is written. The answer depends on (origin, start, end, hash) only; the cache key also
// holds the whole reference note, so a hit never skips the check of a note not seen before.
import { createHash } from 'node:crypto';
import { verifySubtreeConsistency } from '../merkle/subtree.js';
import { keyLabel, parseNote, type SignatureLine } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import type { MlDsa44Key } from '../note/mldsa-keys.js';
import { COSIGNATURE_V1 } from '../note/sigtypes/cosignature.js';
import { MLDSA44, type SignedSubtree } from '../note/sigtypes/mldsa44.js';
import { TokenBucket } from './ratelimit.js';
import { RequestError } from './request.js';
import { parseSignSubtreeBody, type SignSubtreeRequest } from './subtree-request.js';
import { verifyMlDsa44CheckpointAsync } from './verify-async.js';
import type { LogRegistry } from './witness.js';
import { MESSAGES, type ErrorCode } from '../errors.js';

/** Why sign-subtree refused (codes of src/errors.ts; HTTP status: STATUS_OF in src/http/status.ts). */
export type SubtreeRejectCode = Extract<
  ErrorCode,
  | 'malformed' // 400
  | 'inconsistent' // 422
  | 'unknown-log' // 404
  | 'bad-signature' // 403
  | 'rate-limited' // 429
  | 'not-enabled' // 404: this witness has no ML-DSA-44 key
>;

export type SubtreeResult =
  | { kind: 'signed'; origin: string; lines: string; cached: boolean }
  | { kind: 'rejected'; code: SubtreeRejectCode; reason: string; origin?: string; retryAfter?: number };

/** The defaults of SubtreeLimits (config: signSubtree.rate, burst, maxClients, cacheSize). */
export const SUBTREE_DEFAULTS = { perClientPerSecond: 2, perClientBurst: 20, maxClients: 10_000, cacheEntries: 4096 } as const;

export interface SubtreeLimits {
  /** Cache misses allowed per client per second (default 2). */
  perClientPerSecond?: number;
  /** Burst per client (default 20). */
  perClientBurst?: number;
  /** Clients whose buckets are remembered (default 10,000; the oldest are forgotten). */
  maxClients?: number;
  /** Answers remembered (default 4,096; least recently used forgotten). */
  cacheEntries?: number;
}

export interface SubtreeSignerOptions extends SubtreeLimits {
  logs: LogRegistry;
  /** This witness's own keys (cosignature/v1 and ML-DSA-44 verifiers): one must have cosigned the reference. */
  ownKeys: readonly Verifier[];
  /** The ML-DSA-44 keys that sign the answers; none: every request is answered 'not-enabled'. */
  signers: readonly MlDsa44Key[];
  now?: () => number;
}

const reject = (code: SubtreeRejectCode, reason: string, origin?: string): SubtreeResult => ({ kind: 'rejected', code, reason, ...(origin !== undefined ? { origin } : {}) });

/** A Map used as a bounded LRU (insertion order; a get moves the entry to the end). */
class Lru<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    while (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string);
  }
  get size(): number {
    return this.m.size;
  }
}

/** The answer's inputs and what the 403 check reads: the text and the lines under this witness's own labels (others are never verified). */
function cacheKey(req: SignSubtreeRequest, own: ReadonlyMap<string, Verifier>): string {
  const parsed = parseNote(req.note);
  const h = createHash('sha256').update(`${req.start} ${req.end}\n`).update(req.hash).update(parsed.textBytes);
  for (const l of parsed.signatures) if (own.has(keyLabel(l.name, l.keyId))) h.update(`\n${keyLabel(l.name, l.keyId)} `).update(l.sig);
  return h.digest('base64');
}

export class SubtreeSigner {
  private readonly cache: Lru<string>;
  private readonly buckets: Lru<TokenBucket>;
  private readonly own: Map<string, Verifier>;
  private readonly now: () => number;

  constructor(private readonly opts: SubtreeSignerOptions) {
    this.cache = new Lru(opts.cacheEntries ?? SUBTREE_DEFAULTS.cacheEntries);
    this.buckets = new Lru(opts.maxClients ?? SUBTREE_DEFAULTS.maxClients);
    this.own = new Map(opts.ownKeys.map((v) => [keyLabel(v.name, v.keyId), v]));
    this.now = opts.now ?? Date.now;
  }

  /** Whether the endpoint is enabled (an ML-DSA-44 key is configured). */
  get enabled(): boolean {
    return this.opts.signers.length > 0;
  }

  /** Answers cached now (monitoring, tests). */
  get cachedAnswers(): number {
    return this.cache.size;
  }

  /** One sign-subtree request: the raw body and an id of the client (its IP address). */
  async signSubtree(body: Uint8Array, client: string): Promise<SubtreeResult> {
    if (!this.enabled) return reject('not-enabled', MESSAGES.subtreeNotEnabled());
    // SPEC: "If the request is invalid according to the rules above, the witness MUST respond
    // with a "400 Bad Request" HTTP status code." (syntax, subtree validity, end <= size)
    let req: SignSubtreeRequest;
    try {
      req = parseSignSubtreeBody(body);
    } catch (e) {
      if (e instanceof RequestError) return reject('malformed', e.message);
      throw e;
    }
    const origin = req.checkpoint.origin;
    // SPEC: "If the Merkle Consistency Proof doesn't verify, the witness MUST respond with a
    // "422 Unprocessable Entity" HTTP status code."
    if (!verifySubtreeConsistency(req.start, req.end, req.checkpoint.size, req.proof, req.hash, req.checkpoint.root)) {
      return reject('inconsistent', `the subtree consistency proof from [${req.start}, ${req.end}) to size ${req.checkpoint.size} does not verify`, origin);
    }
    // SPEC: "If the checkpoint origin is unknown, the witness MUST respond with a "404 Not Found"
    // HTTP status code."
    const log = this.opts.logs.get(origin);
    if (!log || log.disabled) return reject('unknown-log', MESSAGES.unknownLog(origin), origin);
    // tlog-cosignature: "opaque log_origin<1..2^8-1>": no subtree/v1 line can name a longer origin.
    const originBytes = new TextEncoder().encode(origin).length;
    if (originBytes > 255) return reject('unknown-log', `this witness cannot sign subtrees of this log: its origin is ${originBytes} bytes, and a subtree/v1 cosignature names at most 255`, origin);
    return this.signChecked(req, client);
  }

  private async signChecked(req: SignSubtreeRequest, client: string): Promise<SubtreeResult> {
    const origin = req.checkpoint.origin;
    const key = cacheKey(req, this.own);
    const hit = this.cache.get(key);
    if (hit !== undefined) return { kind: 'signed', origin, lines: hit, cached: true };
    const bucket = this.bucket(client);
    if (!bucket.take()) return { kind: 'rejected', code: 'rate-limited', reason: 'too many sign-subtree requests from this client; retry later', origin, retryAfter: bucket.secondsUntil() };
    // SPEC: "The witness MUST verify that the checkpoint includes a valid cosignature from one of
    // its own keys. If the witness can't verify the checkpoint, it MUST respond with a "403
    // Forbidden" HTTP status code." (No log signature is required: the checkpoint "SHOULD only
    // include signatures from the witness's key(s)".)
    if (!(await this.ownCosigned(req.note))) return reject('bad-signature', "the reference checkpoint carries no valid cosignature by this witness's keys", origin);
    const lines = await this.sign({ origin, start: req.start, end: req.end, hash: req.hash });
    this.cache.set(key, lines);
    return { kind: 'signed', origin, lines, cached: false };
  }

  /**
   * SPEC: "The signatures SHOULD be ML-DSA-44 cosignatures [...] If the cosignature format
   * supports timestamps, the timestamp MUST be zero." One line per ML-DSA-44 key, signed off the
   * event loop (signAsync).
   */
  private async sign(s: SignedSubtree): Promise<string> {
    const lines = await Promise.all(this.opts.signers.map((k) => k.subtreeLine(s, 0n)));
    return lines.join('');
  }

  private bucket(client: string): TokenBucket {
    let b = this.buckets.get(client);
    if (!b) this.buckets.set(client, (b = new TokenBucket(this.opts.perClientPerSecond ?? SUBTREE_DEFAULTS.perClientPerSecond, this.opts.perClientBurst ?? SUBTREE_DEFAULTS.perClientBurst, this.now)));
    return b;
  }

  /**
   * Whether a line by one of our own keys verifies. Only the first line per own key is tried (a
   * note may carry 100 lines under our label, each an ML-DSA-44 verification otherwise), and
   * the cheap Ed25519 lines first.
   */
  private async ownCosigned(note: Uint8Array): Promise<boolean> {
    const parsed = parseNote(note);
    const firstPerKey = new Map<Verifier, SignatureLine>();
    for (const l of parsed.signatures) {
      const v = this.own.get(keyLabel(l.name, l.keyId));
      if (v && !firstPerKey.has(v)) firstPerKey.set(v, l);
    }
    const tries = [...firstPerKey].sort(([a], [b]) => Number(a.type === MLDSA44) - Number(b.type === MLDSA44));
    for (const [v, l] of tries) if (await verifyOwnLine(v, parsed.textBytes, l.sig)) return true;
    return false;
  }
}

/** Verifies one of our own lines on checkpoint text: cosignature/v1 inline, ML-DSA-44 off the event loop. */
async function verifyOwnLine(v: Verifier, text: Uint8Array, sig: Uint8Array): Promise<boolean> {
  if (v.type === COSIGNATURE_V1) return v.verify(text, sig);
  return verifyMlDsa44CheckpointAsync(v, text, sig);
}
