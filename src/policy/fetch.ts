// Gathering cosignatures for a log from the witnesses of a policy (their tlog-witness monitoring
// endpoint, GET <url>/<hex SHA-256(origin)>/checkpoint), merging cosignatures made on the same
// checkpoint text, and reporting witnesses that disagree:
//   - two log-signed checkpoints of one size with different roots: proven split-view evidence;
//   - checkpoints of different sizes whose consistency proof (from an injected source, e.g. the
//     log's tiles) fails: proven evidence when the proof still leads to the larger root (it then
//     names the root of the smaller tree the log committed to), otherwise a possible split view.
// Fetching uses the network (an injectable fetch); every verification it does is the pure one.
import { MAX_SIGNATURE_LINES, formatSignatureLine, openNote, parseNote, type SignatureLine } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { sha256 } from '../crypto/index.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { verifyConsistency, equalHashes, tilePath, tileSubtreeHasher, consistencyProofAsync } from '../merkle/index.js';
import { encodeBase64, toHex, utf8 } from '../util/bytes.js';
import { verifyEvidence, encodeEvidence, type Evidence } from '../witness/evidence.js';
import { hFromProof, sameSizeVerdict, verdictFromConsistency } from '../evidence/split-view.js';
import { cosignatureKeyId, type Policy } from './parse.js';
import { verifyCosignedCheckpoint, type PolicyVerification, type VerifyOptions } from './verify.js';
import { GossipWitnessError } from '../errors.js';

const tooLarge = (max: number) => new GossipWitnessError({ code: 'body-too-large', message: `response larger than ${max} bytes` });

/** The part of the WHATWG fetch API used here (globalThis.fetch fits). */
export type FetchLike = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<FetchResponseLike>;

export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly body?: ReadableStream<Uint8Array> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A consistency proof from size1 to size2 of the log with this origin (RFC 9162 §2.1.4). */
export type ConsistencySource = (origin: string, size1: bigint, size2: bigint) => Promise<Uint8Array[]>;

export interface GatherOptions {
  /** Default: globalThis.fetch. */
  readonly fetch?: FetchLike;
  /** Per request, in milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  /** Largest response accepted, in bytes (default 1 MiB). */
  readonly maxBytes?: number;
  /** Where consistency proofs between different sizes come from; without it they are not checked. */
  readonly consistency?: ConsistencySource;
  /** Options for the policy verification of each assembled checkpoint. */
  readonly verify?: VerifyOptions;
}

export type ResponseStatus =
  | 'ok'
  | 'no-url' // the policy gives no URL for this witness
  | 'http-error'
  | 'network-error'
  | 'malformed' // not a note, or not a checkpoint
  | 'log-signature' // not signed by a policy log key (or a bad log signature)
  | 'origin'; // signed by a policy log, but for another origin

export interface WitnessResponse {
  readonly witness: string;
  readonly url?: string;
  readonly status: ResponseStatus;
  readonly detail: string;
  /** The checkpoint's size, when the response was a log-signed checkpoint of the origin. */
  readonly size?: bigint;
}

export interface Candidate {
  /** The checkpoint text with the log's signature and every policy cosignature seen on it. */
  readonly note: string;
  readonly checkpoint: Checkpoint;
  /** Witnesses whose response carried exactly this checkpoint text. */
  readonly servedBy: readonly string[];
  readonly verification: PolicyVerification;
}

export interface Disagreement {
  /** 'split-view' is proven (evidence verifies with the policy's log keys); the other is not. */
  readonly kind: 'split-view' | 'possible-split-view';
  readonly sizes: readonly [bigint, bigint];
  readonly servedBy: readonly [readonly string[], readonly string[]];
  readonly reason: string;
  /** Proven evidence (gossip-witness/evidence/v1), for kind 'split-view'. */
  readonly evidence?: Evidence;
}

export interface GatherResult {
  readonly origin: string;
  /** A checkpoint satisfies the policy and no witness disagrees. */
  readonly ok: boolean;
  readonly reason: string;
  /** The largest checkpoint that satisfies the policy (the most cosigners on ties). */
  readonly best?: Candidate;
  /** Every distinct log-signed checkpoint text seen, largest first. */
  readonly candidates: readonly Candidate[];
  readonly responses: readonly WitnessResponse[];
  readonly disagreements: readonly Disagreement[];
  /** Size pairs not checked for consistency (no consistency source, or it failed). */
  readonly unchecked: readonly { readonly sizes: readonly [bigint, bigint]; readonly reason: string }[];
}

/** The monitoring URL of a witness for an origin: <url>/<hex SHA-256(origin)>/checkpoint. */
export function monitoringUrl(witnessUrl: string, origin: string): string {
  return `${witnessUrl.replace(/\/+$/, '')}/${toHex(sha256(utf8(origin)))}/checkpoint`;
}

async function readLimited(res: FetchResponseLike, max: number): Promise<Uint8Array> {
  if (res.body && typeof res.body.getReader === 'function') {
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > max) {
        await reader.cancel().catch(() => {});
        throw tooLarge(max);
      }
      chunks.push(value);
    }
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
  const b = new Uint8Array(await res.arrayBuffer());
  if (b.length > max) throw tooLarge(max);
  return b;
}

async function get(fetchImpl: FetchLike, url: string, timeoutMs: number, maxBytes: number): Promise<{ status: number; ok: boolean; body: Uint8Array }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const res = await fetchImpl(url, { signal: ac.signal, headers: { accept: 'text/plain' } });
    const body = res.ok ? await readLimited(res, maxBytes) : new Uint8Array();
    if (!res.ok) await res.body?.cancel().catch(() => {});
    return { status: res.status, ok: res.ok, body };
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a signature line belongs to a log or witness of the policy (by key name and ID). */
function isPolicyLine(policy: Policy, line: SignatureLine): 'log' | 'witness' | undefined {
  if (policy.logsForLine(line.name, line.keyId).length > 0) return 'log';
  if (policy.witnessForLine(line.name, line.keyId) !== undefined) return 'witness';
  if (line.sig.length === 72) {
    for (const i of policy.anyNameWitnesses) if (cosignatureKeyId(line.name, policy.witnesses[i].publicKey) === line.keyId) return 'witness';
  }
  return undefined;
}

interface Group {
  text: string;
  checkpoint: Checkpoint;
  servedBy: string[];
  logLines: Map<string, string>;
  witnessLines: Set<string>;
}

/**
 * Fetches the latest cosigned checkpoint of `origin` from every witness of the policy that has a
 * URL, merges cosignatures on byte-identical checkpoint texts, verifies each against the policy
 * and looks for disagreement between witnesses.
 */
export async function gatherCosignatures(policy: Policy, origin: string, opts: GatherOptions = {}): Promise<GatherResult> {
  const fetchImpl = opts.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
  if (!fetchImpl) throw new GossipWitnessError({ code: 'USAGE', message: 'no fetch implementation: pass opts.fetch' });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 1 << 20;
  const logKeys: Verifier[] = policy.logsForOrigin(origin).map((l) => l.verifier);
  if (logKeys.length === 0) {
    return {
      origin,
      ok: false,
      reason: `the policy has no log for origin ${JSON.stringify(origin)} (its origins: ${policy.origins().map((o) => JSON.stringify(o)).join(', ') || 'none'})`,
      candidates: [],
      responses: [],
      disagreements: [],
      unchecked: [],
    };
  }

  // 1. Fetch.
  const groups = new Map<string, Group>();
  const responses = await Promise.all(
    policy.witnesses.map(async (w): Promise<WitnessResponse> => {
      if (!w.url) return { witness: w.name, status: 'no-url', detail: 'no URL in the policy' };
      const url = monitoringUrl(w.url, origin);
      let r: { status: number; ok: boolean; body: Uint8Array };
      try {
        r = await get(fetchImpl, url, timeoutMs, maxBytes);
      } catch (e) {
        return { witness: w.name, url, status: 'network-error', detail: (e as Error).message || String(e) };
      }
      if (!r.ok) return { witness: w.name, url, status: 'http-error', detail: `HTTP ${r.status}` };
      // 2. Each response must be a checkpoint of this origin signed by a policy log key.
      const v = verifyCosignedCheckpoint(r.body, policy);
      if (v.code === 'malformed' || v.code === 'log-signature' || v.code === 'origin' || !v.checkpoint) {
        return { witness: w.name, url, status: v.code === 'origin' ? 'origin' : v.code === 'malformed' ? 'malformed' : 'log-signature', detail: v.reason };
      }
      const cp = v.checkpoint;
      if (cp.origin !== origin) return { witness: w.name, url, status: 'origin', detail: `checkpoint of origin ${JSON.stringify(cp.origin)}, not ${JSON.stringify(origin)}` };
      const parsed = parseNote(r.body);
      let g = groups.get(cp.text);
      if (!g) {
        g = { text: cp.text, checkpoint: cp, servedBy: [], logLines: new Map(), witnessLines: new Set() };
        groups.set(cp.text, g);
      }
      g.servedBy.push(w.name);
      for (const line of parsed.signatures) {
        const kind = isPolicyLine(policy, line);
        const formatted = formatSignatureLine(line.name, line.keyId, line.sig);
        if (kind === 'log') {
          const label = `${line.name}+${line.keyId}`;
          if (!g.logLines.has(label)) g.logLines.set(label, formatted);
        } else if (kind === 'witness') g.witnessLines.add(formatted);
      }
      return { witness: w.name, url, status: 'ok', detail: `size ${cp.size}`, size: cp.size };
    }),
  );

  // 3. Merge and verify.
  const candidates: Candidate[] = [...groups.values()].map((g) => {
    const lines = [...g.logLines.values(), ...g.witnessLines].slice(0, MAX_SIGNATURE_LINES);
    const note = `${g.text}\n${lines.join('')}`;
    return { note, checkpoint: g.checkpoint, servedBy: g.servedBy, verification: verifyCosignedCheckpoint(note, policy, opts.verify) };
  });
  candidates.sort((a, b) => (a.checkpoint.size > b.checkpoint.size ? -1 : a.checkpoint.size < b.checkpoint.size ? 1 : b.servedBy.length - a.servedBy.length));

  // 4. Disagreement.
  const disagreements: Disagreement[] = [];
  const unchecked: { sizes: readonly [bigint, bigint]; reason: string }[] = [];
  const side = (c: Candidate) => ({ note: openNote(c.note, logKeys), checkpoint: c.checkpoint });
  const trusted = (o: string) => (o === origin ? logKeys : undefined);
  const proven = (e: Evidence): boolean => verifyEvidence(encodeEvidence(e), trusted).ok;
  // Distinct (size, root) trees; candidates differing only in extension lines are one tree.
  const trees: Candidate[] = [];
  for (const c of candidates) if (!trees.some((t) => t.checkpoint.size === c.checkpoint.size && equalHashes(t.checkpoint.root, c.checkpoint.root))) trees.push(c);
  for (let i = 0; i < trees.length; i++) {
    for (let j = i + 1; j < trees.length; j++) {
      const [a, b] = [trees[i], trees[j]];
      if (a.checkpoint.size !== b.checkpoint.size || a.checkpoint.size === 0n) continue;
      const same = sameSizeVerdict(side(a), side(b));
      if (same?.kind !== 'evidence') continue;
      const evidence = same.evidence;
      disagreements.push({
        kind: proven(evidence) ? 'split-view' : 'possible-split-view',
        sizes: [a.checkpoint.size, b.checkpoint.size],
        servedBy: [a.servedBy, b.servedBy],
        reason: `two log-signed checkpoints of size ${a.checkpoint.size} with different roots (${encodeBase64(a.checkpoint.root)} served by ${a.servedBy.join(', ')}; ${encodeBase64(b.checkpoint.root)} served by ${b.servedBy.join(', ')})`,
        evidence,
      });
    }
  }
  // Different sizes: each smaller tree against the largest one.
  const largest = trees[0];
  if (largest) {
    for (const t of trees) {
      const m = t.checkpoint.size;
      const n = largest.checkpoint.size;
      if (m >= n || m === 0n) continue;
      if (!opts.consistency) {
        unchecked.push({ sizes: [m, n], reason: 'no consistency proof source' });
        continue;
      }
      let proof: Uint8Array[];
      try {
        proof = await opts.consistency(origin, m, n);
      } catch (e) {
        unchecked.push({ sizes: [m, n], reason: `consistency proof unavailable: ${(e as Error).message}` });
        continue;
      }
      if (verifyConsistency(m, n, t.checkpoint.root, largest.checkpoint.root, proof)) continue;
      const servedBy: [string[], string[]] = [[...t.servedBy], [...largest.servedBy]];
      const h = hFromProof(m, n, proof, largest.checkpoint.root);
      const verdict = h ? verdictFromConsistency(side(t), side(largest), h, proof) : undefined;
      if (verdict?.kind === 'evidence') {
        const evidence = verdict.evidence;
        if (proven(evidence)) {
          disagreements.push({
            kind: 'split-view',
            sizes: [m, n],
            servedBy,
            reason: `the log's tree of size ${n} (served by ${largest.servedBy.join(', ')}) does not extend its tree of size ${m} (served by ${t.servedBy.join(', ')}): the consistency proof leads to the size-${n} root from a different size-${m} root`,
            evidence,
          });
          continue;
        }
      }
      disagreements.push({
        kind: 'possible-split-view',
        sizes: [m, n],
        servedBy,
        reason: `the consistency proof from size ${m} (served by ${t.servedBy.join(', ')}) to size ${n} (served by ${largest.servedBy.join(', ')}) does not verify: the checkpoints may be inconsistent, or the proof source is wrong`,
      });
    }
  }

  const satisfying = candidates.filter((c) => c.verification.ok);
  satisfying.sort((a, b) =>
    a.checkpoint.size > b.checkpoint.size ? -1 : a.checkpoint.size < b.checkpoint.size ? 1 : b.verification.cosigners.length - a.verification.cosigners.length,
  );
  const best = satisfying[0];
  const okResponses = responses.filter((r) => r.status === 'ok').length;
  let reason: string;
  if (disagreements.length > 0) {
    reason = `witnesses disagree about ${JSON.stringify(origin)}: ${disagreements.map((d) => `${d.kind === 'split-view' ? 'PROVEN split view' : 'possible split view'}: ${d.reason}`).join('; ')}`;
  } else if (best) {
    reason = `${best.verification.reason} (${okResponses} of ${responses.length} witnesses answered)`;
  } else if (candidates.length > 0) {
    reason = `no checkpoint assembled from ${okResponses} witness answer${okResponses === 1 ? '' : 's'} satisfies the policy: ${candidates[0].verification.reason}`;
  } else {
    reason = `no witness returned a checkpoint of ${JSON.stringify(origin)} signed by the log (${responses.map((r) => `${r.witness}: ${r.status}${r.detail ? ` (${r.detail})` : ''}`).join('; ')})`;
  }
  return { origin, ok: best !== undefined && disagreements.length === 0, reason, best, candidates, responses, disagreements, unchecked };
}

/**
 * A consistency source reading a tlog-tiles log (c2sp.org/tlog-tiles) at baseUrl: hash tiles
 * at <baseUrl>/tile/<L>/<N>[.p/<W>].
 */
export function tilesConsistencySource(baseUrl: string, opts: { fetch?: FetchLike; timeoutMs?: number } = {}): ConsistencySource {
  const fetchImpl = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const base = baseUrl.replace(/\/+$/, '');
  return async (_origin, size1, size2) => {
    const fetchTile = async (level: number, index: bigint, width: number): Promise<Uint8Array> => {
      const r = await get(fetchImpl, `${base}/${tilePath(level, index, width)}`, opts.timeoutMs ?? 10_000, 32 * 256);
      if (!r.ok) throw new GossipWitnessError({ code: 'NETWORK', message: `tile ${tilePath(level, index, width)}: HTTP ${r.status}` });
      return r.body;
    };
    return consistencyProofAsync(size1, size2, tileSubtreeHasher(size2, fetchTile));
  };
}
