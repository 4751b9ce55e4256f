// Split-view evidence in one place (issue 15): the format and verifier (src/witness/evidence.ts,
// re-exported), a verified type, the two derivations every caller needs ("same size, other root"
// and "a consistency proof from (m, h) to B"), and one prover over interchangeable sources (the
// log's tiles, the log's proof API, a peer). Callers: logs/feeders/tiles.ts, policy/fetch.ts,
// gossip/pair-checks.ts.
import { sameSizeOtherRoot } from '../checkpoint/checkpoint.js';
import type { OpenedNote } from '../note/note.js';
import type { VerifierSet } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { consistencyRoots, isPowerOfTwo, verifyConsistency } from '../merkle/proof.js';
import { equalBytes } from '../util/bytes.js';
import { encodeEvidence, evidenceId, forkKeyOf, makeEvidence, verifyEvidence, type Evidence } from '../witness/evidence.js';
import type { VerifiedRecord } from '../witness/store.js';

export { encodeEvidence, decodeEvidence, evidenceId, forkKeyOf, makeEvidence, verifyEvidence, EvidenceError, MAX_EVIDENCE_BYTES, EVIDENCE_TYPE, type Evidence } from '../witness/evidence.js';

/** A log-signed checkpoint: the note opened with the log's keys, and its parsed text. */
export interface SignedCheckpointRef {
  readonly note: OpenedNote;
  readonly checkpoint: Checkpoint;
}

export type PairVerdict = { kind: 'evidence'; evidence: Evidence } | { kind: 'consistent' };

declare const verifiedBrand: unique symbol;
/** Evidence that verified against this node's own log keys: the only kind worth storing or forwarding. */
export type VerifiedEvidence = Evidence & { readonly [verifiedBrand]: true; readonly sizes: readonly [bigint, bigint]; /** forkKeyOf: the split view it proves, whatever the encoding. */ readonly fork: string };

/** verifyEvidence, returning the verified type. */
export function verifySplitView(
  e: Evidence,
  trustedKeys: (origin: string) => Verifier[] | VerifierSet | undefined,
): { ok: true; evidence: VerifiedEvidence } | { ok: false; code: 'malformed' | 'unknown-origin' | 'bad-signature' | 'not-evidence'; reason: string } {
  const v = verifyEvidence(e, trustedKeys);
  if (!v.ok) return v;
  return { ok: true, evidence: Object.assign(Object.create(null), e, { sizes: [v.a.size, v.b.size], fork: forkKeyOf(v.origin, v.a, v.b) }) as VerifiedEvidence };
}

/** The store's record of verified evidence (the only kind a store's addEvidence accepts). */
export function evidenceRecord(e: VerifiedEvidence, receivedAt: number): VerifiedRecord {
  const bytes = encodeEvidence(e);
  return { id: evidenceId(bytes), origin: e.origin, receivedAt, bytes } as VerifiedRecord;
}

/**
 * The same size: another root is evidence, the same root is consistent. Undefined when the sizes
 * differ (a proof is needed). Size 0 is always consistent (every tree extends the empty tree).
 */
export function sameSizeVerdict(a: SignedCheckpointRef, b: SignedCheckpointRef): PairVerdict | undefined {
  if (a.checkpoint.size !== b.checkpoint.size) return undefined;
  if (a.checkpoint.size === 0n || !sameSizeOtherRoot(a.checkpoint, b.checkpoint)) return { kind: 'consistent' };
  return { kind: 'evidence', evidence: makeEvidence(a, b) };
}

/**
 * A claimed root h of the first m leaves of the larger tree, with the proof from (m, h) to it.
 * Undefined when the proof does not verify against the larger checkpoint's signed root (the
 * source is wrong, or serves another tree); otherwise h decides: equal to the smaller root is
 * consistent, anything else is evidence.
 */
export function verdictFromConsistency(x: SignedCheckpointRef, y: SignedCheckpointRef, h: Uint8Array, proof: Uint8Array[]): PairVerdict | undefined {
  const [small, large] = x.checkpoint.size <= y.checkpoint.size ? [x, y] : [y, x];
  const m = small.checkpoint.size;
  const n = large.checkpoint.size;
  if (m === 0n) return { kind: 'consistent' };
  if (m === n) return sameSizeVerdict(small, large);
  if (!verifyConsistency(m, n, h, large.checkpoint.root, proof)) return undefined;
  if (equalBytes(h, small.checkpoint.root)) return { kind: 'consistent' };
  return { kind: 'evidence', evidence: makeEvidence(small, large, { h, proof }) };
}

/**
 * A proof API's answer from m to n (RFC 6962, which omits the old root) that did not verify with
 * the smaller checkpoint's root: the h it implies, when m is not a power of two and the proof
 * leads to the larger root. For m a power of two the caller needs a candidate h (e.g. from the
 * proof m-1 -> m, see candidateHFromPrefixProof).
 */
export function hFromProof(m: bigint, n: bigint, proof: Uint8Array[], largeRoot: Uint8Array): Uint8Array | undefined {
  if (m === 0n || m >= n || isPowerOfTwo(m)) return undefined;
  const roots = consistencyRoots(m, n, proof);
  return roots && equalBytes(roots.newRoot, largeRoot) ? roots.oldRoot : undefined;
}

/** The proof from m-1 to m (odd m-1 > 1) is leaf m-1 with its inclusion proof: it yields a candidate root of m leaves. */
export function candidateHFromPrefixProof(m: bigint, innerProof: Uint8Array[]): Uint8Array | undefined {
  if (m < 4n) return undefined;
  return consistencyRoots(m - 1n, m, innerProof)?.newRoot;
}

// ---------------------------------------------------------------- the prover

/** What one source says about a pair: a verdict, a refusal (the log answered with nothing usable), or nothing. */
export type SourceAnswer = PairVerdict | { kind: 'refused'; reason: string } | undefined;

/** A proof source: the log's tiles, the log's proof API, a peer. It may throw (counted as no answer). */
export interface ProofSource {
  readonly name: string;
  prove(small: SignedCheckpointRef, large: SignedCheckpointRef, signal: AbortSignal): Promise<SourceAnswer>;
}

export type ProverResult =
  | { result: 'evidence'; how: string; evidence: Evidence }
  | { result: 'consistent'; how: string }
  | { result: 'suspect'; how: string; reason: string }
  | { result: 'undecided'; how: string };

export interface ProveOptions {
  /** Asked one after another, before the others (the log's tiles: cheap and authoritative). */
  readonly first?: readonly ProofSource[];
  /** Asked all at once under one deadline; the first decisive answer wins. */
  readonly parallel?: readonly ProofSource[];
  readonly deadlineMs: number;
  /** Verifies (and stores) evidence a source produced; only accepted evidence decides. */
  readonly accept: (e: Evidence) => Promise<boolean>;
  readonly signal?: AbortSignal;
}

/** Decides one pair from its sources. A refusal by the log makes it suspect unless another source decides. */
export async function provePairFrom(small: SignedCheckpointRef, large: SignedCheckpointRef, o: ProveOptions): Promise<ProverResult> {
  const same = sameSizeVerdict(small, large);
  if (same?.kind === 'consistent') return { result: 'consistent', how: 'same tree' };
  if (same?.kind === 'evidence' && (await o.accept(same.evidence))) return { result: 'evidence', how: 'same size', evidence: same.evidence };
  let refused: string | undefined;
  const decide = async (src: ProofSource, a: SourceAnswer): Promise<ProverResult | undefined> => {
    if (!a) return undefined;
    if (a.kind === 'refused') {
      refused ??= a.reason;
      return undefined;
    }
    if (a.kind === 'consistent') return { result: 'consistent', how: src.name };
    return (await o.accept(a.evidence)) ? { result: 'evidence', how: src.name, evidence: a.evidence } : undefined;
  };
  // The first sources have their own deadlines; the parallel ones share one.
  for (const src of o.first ?? []) {
    if (o.signal?.aborted) break;
    const r = await src.prove(small, large, o.signal ?? new AbortController().signal).then((a) => decide(src, a), (e) => decide(src, { kind: 'refused', reason: `${src.name}: ${(e as Error).message}` }));
    if (r) return r;
  }
  const all = new AbortController();
  const timer = setTimeout(() => all.abort(new Error('pair check deadline')), o.deadlineMs);
  timer.unref?.();
  const signal = o.signal ? AbortSignal.any([o.signal, all.signal]) : all.signal;
  try {
    const ps = (o.parallel ?? []).map((src) => src.prove(small, large, signal).then((a) => decide(src, a), () => undefined));
    const first = await firstDefined(ps);
    if (first) return first;
  } finally {
    clearTimeout(timer);
    all.abort(new Error('pair check over'));
  }
  if (refused !== undefined) return { result: 'suspect', how: refused, reason: refused };
  return { result: 'undecided', how: 'no proof source' };
}

/** The first promise to resolve to a defined value, or undefined once all have settled. */
export function firstDefined<T>(ps: Promise<T | undefined>[]): Promise<T | undefined> {
  if (ps.length === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let left = ps.length;
    for (const p of ps) {
      p.then(
        (v) => {
          if (v !== undefined) resolve(v);
          else if (--left === 0) resolve(undefined);
        },
        () => {
          if (--left === 0) resolve(undefined);
        },
      );
    }
  });
}
