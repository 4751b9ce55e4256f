// Gathering cosignatures for a log from the witnesses of a policy (their tlog-witness monitoring
// endpoint, GET <url>/<hex SHA-256(origin)>/checkpoint) and/or from distributors (the reads of
// transparency-dev/distributor's REST API, which every gossip-witness node serves:
// GET <base>/distributor/v0/logs/<hex SHA-256("o:" + origin)>/checkpoint[.N]), merging
// cosignatures made on the same checkpoint text, and reporting sources that disagree. A
// distributor is untrusted exactly like a witness: its answer is verified against the policy
// (log signature, each cosignature) and merged on the same path:
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
  /**
   * Base URLs of distributors (transparency-dev/distributor's REST API; every gossip-witness node
   * serves it), asked for GET <base>/distributor/v0/logs/<logid>/checkpoint, or checkpoint.<N>
   * with minCosignatures. Their answers are untrusted and verified like witness answers.
   */
  readonly distributors?: readonly string[];
  /**
   * Ask distributors for the newest checkpoint with at least N cosignatures (checkpoint.N), and
   * accept as `best` only a checkpoint carrying at least N cosignatures that verify, from
   * distinct policy witnesses (the distributor's count is not trusted). An integer 1..100 (transparency-dev/distributor serves checkpoint.1 to checkpoint.100).
   */
  readonly minCosignatures?: number;
  /**
   * Also ask the policy's witnesses that have a URL. Default: true without distributors, false
   * with them (a distributor is where a client reads cosigned checkpoints; witnesses need not
   * serve clients).
   */
  readonly askWitnesses?: boolean;
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
  | 'not-found' // a distributor answered 404: it holds no such checkpoint (or does not know the log)
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

/** What one distributor answered (GatherOptions.distributors), before merging. */
export interface DistributorResponse {
  /** The distributor's base URL, as given (trailing slashes removed). */
  readonly distributor: string;
  /** The URL asked. */
  readonly url: string;
  /** 'not-found': it answered 404 (no checkpoint, or none with minCosignatures); never 'no-url'. */
  readonly status: ResponseStatus;
  /** For people: the size and the number of policy cosignature lines, or why it was refused. */
  readonly detail: string;
  /** The checkpoint's size, when the response was a log-signed checkpoint of the origin. */
  readonly size?: bigint;
}

export interface Candidate {
  /** The checkpoint text with the log's signature and every policy cosignature seen on it. */
  readonly note: string;
  readonly checkpoint: Checkpoint;
  /** Witnesses (by name) and distributors (by base URL) whose response carried exactly this checkpoint text. */
  readonly servedBy: readonly string[];
  /** The policy verification (exhaustive when minCosignatures is set, so cosigners is complete). */
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
  /** A checkpoint satisfies the policy (and minCosignatures) and no witness or distributor disagrees. */
  readonly ok: boolean;
  readonly reason: string;
  /** The largest checkpoint that satisfies the policy and minCosignatures (the most cosigners on ties). */
  readonly best?: Candidate;
  /** Every distinct log-signed checkpoint text seen, largest first. */
  readonly candidates: readonly Candidate[];
  /** One per policy witness when witnesses were asked (askWitnesses), else empty. */
  readonly responses: readonly WitnessResponse[];
  /** One per distributor asked, in the order given. */
  readonly distributorResponses: readonly DistributorResponse[];
  readonly disagreements: readonly Disagreement[];
  /** Size pairs not checked for consistency (no consistency source, or it failed). */
  readonly unchecked: readonly { readonly sizes: readonly [bigint, bigint]; readonly reason: string }[];
}

/** The monitoring URL of a witness for an origin: <url>/<hex SHA-256(origin)>/checkpoint. */
export function monitoringUrl(witnessUrl: string, origin: string): string {
  return `${witnessUrl.replace(/\/+$/, '')}/${toHex(sha256(utf8(origin)))}/checkpoint`;
}

/**
 * A distributor's checkpoint URL for an origin (transparency-dev/distributor's REST API):
 * <base>/distributor/v0/logs/<hex SHA-256("o:" + origin)>/checkpoint, or checkpoint.<N> for the
 * newest checkpoint with at least N cosignatures. `pq` asks a gossip-witness node for its ML-DSA-44
 * (0x06) cosignatures too (?pq=1; other distributors ignore it).
 */
export function distributorCheckpointUrl(base: string, origin: string, minCosignatures?: number, pq = false): string {
  const n = minCosignatures === undefined ? '' : `.${checkMinCosignatures(minCosignatures)}`;
  return `${base.replace(/\/+$/, '')}/distributor/v0/logs/${toHex(sha256(utf8('o:' + origin)))}/checkpoint${n}${pq ? '?pq=1' : ''}`;
}

function checkMinCosignatures(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new GossipWitnessError({ code: 'USAGE', message: `minCosignatures must be an integer from 1 to 100, not ${String(n)}` });
  return n;
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

/**
 * The group's witness lines, or, when with the log's lines they are more than a note may carry
 * (an untrusted source can pad its answer with lines under policy witnesses' key names to push
 * genuine ones out), only those that verify on their own: the newest per witness.
 */
function fitWitnessLines(policy: Policy, g: Group): string[] {
  const all = [...g.witnessLines];
  if (g.logLines.size + all.length <= MAX_SIGNATURE_LINES) return all;
  const head = `${g.text}\n${[...g.logLines.values()].join('')}`;
  const newest = new Map<string, { line: string; ts: bigint }>();
  for (const line of all) {
    const w = verifyCosignedCheckpoint(head + line, policy, { exhaustive: true }).witnesses.find((x) => x.status === 'verified');
    if (!w) continue;
    const ts = w.timestamp ?? 0n;
    const had = newest.get(w.name);
    if (!had || ts > had.ts) newest.set(w.name, { line, ts });
  }
  return [...newest.values()].map((x) => x.line);
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
 * URL and/or from distributors (opts.distributors), merges cosignatures on byte-identical
 * checkpoint texts, verifies each against the policy and looks for disagreement between sources.
 */
export async function gatherCosignatures(policy: Policy, origin: string, opts: GatherOptions = {}): Promise<GatherResult> {
  const fetchImpl = opts.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
  if (!fetchImpl) throw new GossipWitnessError({ code: 'USAGE', message: 'no fetch implementation: pass opts.fetch' });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 1 << 20;
  const distributors = [...new Set((opts.distributors ?? []).map((d) => d.replace(/\/+$/, '')))];
  const minCosignatures = opts.minCosignatures === undefined ? undefined : checkMinCosignatures(opts.minCosignatures);
  const askWitnesses = opts.askWitnesses ?? distributors.length === 0;
  // ML-DSA-44 cosignatures travel only on request (?pq=1) from a gossip-witness distributor.
  const pq = policy.witnesses.some((w) => w.verifier?.type === 0x06);
  const logKeys: Verifier[] = policy.logsForOrigin(origin).map((l) => l.verifier);
  if (logKeys.length === 0) {
    return {
      origin,
      ok: false,
      reason: `the policy has no log for origin ${JSON.stringify(origin)} (its origins: ${policy.origins().map((o) => JSON.stringify(o)).join(', ') || 'none'})`,
      candidates: [],
      responses: [],
      distributorResponses: [],
      disagreements: [],
      unchecked: [],
    };
  }

  // 1. Fetch.
  const groups = new Map<string, Group>();
  // Several policy witnesses can share one URL (a dual-key witness listed once per key): ask it once.
  const answers = new Map<string, ReturnType<typeof get>>();
  const getOnce = (url: string): ReturnType<typeof get> => {
    let p = answers.get(url);
    if (!p) answers.set(url, (p = get(fetchImpl, url, timeoutMs, maxBytes)));
    return p;
  };
  /** Fetches url, checks the answer (2.) and merges it into groups under the source's label. */
  const collect = async (label: string, url: string, notFound: ResponseStatus): Promise<{ status: ResponseStatus; detail: string; size?: bigint }> => {
    let r: { status: number; ok: boolean; body: Uint8Array };
    try {
      r = await getOnce(url);
    } catch (e) {
      return { status: 'network-error', detail: (e as Error).message || String(e) };
    }
    if (r.status === 404) return { status: notFound, detail: 'HTTP 404' };
    if (!r.ok) return { status: 'http-error', detail: `HTTP ${r.status}` };
    // 2. Each response must be a checkpoint of this origin signed by a policy log key.
    const v = verifyCosignedCheckpoint(r.body, policy);
    if (v.code === 'malformed' || v.code === 'log-signature' || v.code === 'origin' || !v.checkpoint) {
      return { status: v.code === 'origin' ? 'origin' : v.code === 'malformed' ? 'malformed' : 'log-signature', detail: v.reason };
    }
    const cp = v.checkpoint;
    if (cp.origin !== origin) return { status: 'origin', detail: `checkpoint of origin ${JSON.stringify(cp.origin)}, not ${JSON.stringify(origin)}` };
    const parsed = parseNote(r.body);
    let g = groups.get(cp.text);
    if (!g) {
      g = { text: cp.text, checkpoint: cp, servedBy: [], logLines: new Map(), witnessLines: new Set() };
      groups.set(cp.text, g);
    }
    g.servedBy.push(label);
    let lines = 0;
    for (const line of parsed.signatures) {
      const kind = isPolicyLine(policy, line);
      const formatted = formatSignatureLine(line.name, line.keyId, line.sig);
      if (kind === 'log') {
        const l = `${line.name}+${line.keyId}`;
        if (!g.logLines.has(l)) g.logLines.set(l, formatted);
      } else if (kind === 'witness') {
        g.witnessLines.add(formatted);
        lines++;
      }
    }
    return { status: 'ok', detail: `size ${cp.size}, ${lines} policy cosignature line${lines === 1 ? '' : 's'}`, size: cp.size };
  };
  const [responses, distributorResponses] = await Promise.all([
    Promise.all(
      (askWitnesses ? policy.witnesses : []).map(async (w): Promise<WitnessResponse> => {
        if (!w.url) return { witness: w.name, status: 'no-url', detail: 'no URL in the policy' };
        const url = monitoringUrl(w.url, origin);
        const r = await collect(w.name, url, 'http-error');
        // A witness's answer names only its size (its own cosignature is the point).
        return { witness: w.name, url, ...r, ...(r.status === 'ok' ? { detail: `size ${r.size}` } : {}) };
      }),
    ),
    Promise.all(
      distributors.map(async (d): Promise<DistributorResponse> => {
        const url = distributorCheckpointUrl(d, origin, minCosignatures, pq);
        const r = await collect(d, url, 'not-found');
        return { distributor: d, url, ...r, ...(r.status === 'not-found' ? { detail: `HTTP 404: no checkpoint${minCosignatures === undefined ? '' : ` with at least ${minCosignatures} cosignatures`}` } : {}) };
      }),
    ),
  ]);

  // servedBy in a fixed order (policy witnesses, then distributors as given), not arrival order.
  const order = new Map<string, number>([...(askWitnesses ? policy.witnesses.map((w) => w.name) : []), ...distributors].map((l, i) => [l, i]));
  for (const g of groups.values()) g.servedBy.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));

  // 3. Merge and verify.
  const candidates: Candidate[] = [...groups.values()].map((g) => {
    const lines = [...g.logLines.values(), ...fitWitnessLines(policy, g)].slice(0, MAX_SIGNATURE_LINES);
    const note = `${g.text}\n${lines.join('')}`;
    // With a minimum, every witness is checked so that cosigners counts them all.
    const verify = minCosignatures === undefined ? opts.verify : { ...opts.verify, exhaustive: true };
    return { note, checkpoint: g.checkpoint, servedBy: g.servedBy, verification: verifyCosignedCheckpoint(note, policy, verify) };
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

  const enough = (c: Candidate) => minCosignatures === undefined || c.verification.cosigners.length >= minCosignatures;
  const satisfying = candidates.filter((c) => c.verification.ok && enough(c));
  satisfying.sort((a, b) =>
    a.checkpoint.size > b.checkpoint.size ? -1 : a.checkpoint.size < b.checkpoint.size ? 1 : b.verification.cosigners.length - a.verification.cosigners.length,
  );
  const best = satisfying[0];
  const okWitnesses = responses.filter((r) => r.status === 'ok').length;
  const okDistributors = distributorResponses.filter((r) => r.status === 'ok').length;
  const okResponses = okWitnesses + okDistributors;
  // Who was asked, in words: "witnesses", "distributors" or "witnesses and distributors".
  const sources = [askWitnesses ? 'witnesses' : '', distributors.length > 0 ? 'distributors' : ''].filter(Boolean).join(' and ') || 'witnesses';
  const answered = [
    ...(askWitnesses ? [`${okWitnesses} of ${responses.length} witnesses`] : []),
    ...(distributors.length > 0 ? [`${okDistributors} of ${distributors.length} distributor${distributors.length === 1 ? '' : 's'}`] : []),
  ].join(' and ');
  const answerWord = distributors.length > 0 ? 'answer' : 'witness answer';
  let reason: string;
  if (disagreements.length > 0) {
    reason = `${sources} disagree about ${JSON.stringify(origin)}: ${disagreements.map((d) => `${d.kind === 'split-view' ? 'PROVEN split view' : 'possible split view'}: ${d.reason}`).join('; ')}`;
  } else if (best) {
    reason = `${best.verification.reason} (${answered || '0 of 0 witnesses'} answered)`;
  } else if (candidates.length > 0) {
    const policyOk = candidates.find((c) => c.verification.ok);
    const why = policyOk
      ? `the largest one that satisfies the policy (size ${policyOk.checkpoint.size}) has ${policyOk.verification.cosigners.length} verified cosignature${policyOk.verification.cosigners.length === 1 ? '' : 's'} from policy witnesses, fewer than the ${minCosignatures} asked for`
      : candidates[0].verification.reason;
    reason = `no checkpoint assembled from ${okResponses} ${answerWord}${okResponses === 1 ? '' : 's'} satisfies the policy${minCosignatures === undefined ? '' : ` with at least ${minCosignatures} cosignatures`}: ${why}`;
  } else {
    const all = [
      ...responses.map((r) => `${r.witness}: ${r.status}${r.detail ? ` (${r.detail})` : ''}`),
      ...distributorResponses.map((r) => `distributor ${r.distributor}: ${r.status}${r.detail ? ` (${r.detail})` : ''}`),
    ];
    const who = distributors.length > 0 ? (askWitnesses ? 'no witness or distributor' : 'no distributor') : 'no witness';
    reason = `${who} returned a checkpoint of ${JSON.stringify(origin)} signed by the log (${all.join('; ')})`;
  }
  return { origin, ok: best !== undefined && disagreements.length === 0, reason, best, candidates, responses, distributorResponses, disagreements, unchecked };
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
