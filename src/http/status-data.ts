// Gathers what the status page (./status-page.ts) and GET /status.json show: per log the witness's
// latest cosigned checkpoint (witness.latest), agreement with the tracked witnesses (the gossip
// view), evidence and suspects (the store); the node's keys, uptime and peers. Also the gauge
// gossip_log_agreeing_witnesses{origin}, computed the same way at scrape time.
import { Gauge, type Registry } from 'prom-client';
import { keyLabel } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { originHash, parseCheckpoint, sameTree } from '../checkpoint/checkpoint.js';
import { encodeBase64, equalBytes } from '../util/bytes.js';
import type { Witness, WitnessLog } from '../witness/witness.js';
import { EVIDENCE_PER_ORIGIN, type LogState, type WitnessStore } from '../witness/store.js';
// Types only: a node without p2p: never loads the gossip stack.
import type { LogView } from '../gossip/view.js';
import type { FeederStatus, LogStatus, StatusData, WitnessAgreement } from './status-page.js';
import type { FeederStats } from '../logs/feeders/feeder.js';

/** The read-only part of the gossip service the status needs (GossipService satisfies it). */
export interface GossipStatusView {
  readonly peerId: string;
  /** Connected peers and their gossipsub scores. */
  scores(): Map<string, number>;
  viewOf(origin: string): LogView | undefined;
}

export interface StatusSourceOptions {
  readonly name: string;
  readonly vkeys: readonly string[];
  readonly witness: Pick<Witness, 'latest'> & Partial<Pick<Witness, 'clockBehindSeconds' | 'newestCosignatureSeconds' | 'suspectRepeats'>>;
  readonly store: Pick<WitnessStore, 'listEvidence' | 'listSuspects'> & Partial<Pick<WitnessStore, 'health' | 'evidenceCounts' | 'pageEvidence'>>;
  /** The pull feeders' stats (a getter: the node creates the feeders after the server). */
  readonly feeders?: () => readonly FeederStats[];
  readonly logs: { origins(): string[]; get(origin: string): WitnessLog | undefined };
  /** The other witnesses this node tracks (config `witnesses:`). */
  readonly witnesses?: readonly { readonly name?: string; readonly verifier: Verifier }[];
  /** The gossip service, once started (a getter: the node starts gossip after creating the server). */
  readonly gossip?: () => GossipStatusView | undefined;
  readonly now?: () => number;
  /** When the node started (ms; default: when this source was created). */
  readonly startedAt?: number;
  /** Answers are reused this long (ms, default 1000): the page is public and each one reads the store. */
  readonly cacheMs?: number;
}

export interface StatusSource {
  collect(): Promise<StatusData>;
  /** Tracked witnesses that cosigned the same tree as this node's latest checkpoint of each log (gossip only). */
  agreeing(): Promise<Map<string, number>>;
}

const MAX_EVIDENCE_ITEMS = 10;
/** A feeder is shown as failing (and named in the banner) after this many failed polls in a row. */
export const FEEDER_FAILING_AFTER = 3;

/** Whether the witness can cosign now: its store can write and its clock is not behind its newest cosignature (GET /readyz). */
export function readiness(
  store: Partial<Pick<WitnessStore, 'health'>>,
  witness: Partial<Pick<Witness, 'clockBehindSeconds' | 'newestCosignatureSeconds'>>,
): { ready: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const h = store.health?.();
  if (h && !h.writable) reasons.push(`the store cannot write (${h.reason})`);
  const behind = witness.clockBehindSeconds?.() ?? 0;
  if (behind > 0) reasons.push(`the clock is ${behind} s behind the newest cosignature this witness signed (${new Date((witness.newestCosignatureSeconds?.() ?? 0) * 1000).toISOString()})`);
  return { ready: reasons.length === 0, reasons };
}

function feederStatus(s: FeederStats, t: number): FeederStatus {
  const status = s.polls === 0 ? 'waiting' : s.consecutiveFailures === 0 ? 'ok' : s.consecutiveFailures < FEEDER_FAILING_AFTER ? 'retrying' : 'failing';
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    type: s.type,
    url: s.url,
    status,
    consecutiveFailures: s.consecutiveFailures,
    ...(s.lastPollAt !== undefined ? { lastPollAt: iso(s.lastPollAt) } : {}),
    ...(s.lastSuccessAt !== undefined ? { lastSuccessAt: iso(s.lastSuccessAt), lastSuccessAgeSeconds: Math.max(0, Math.floor((t - s.lastSuccessAt) / 1000)) } : {}),
    ...(s.lastError ? { lastError: { reason: s.lastError.reason, message: s.lastError.message, at: iso(s.lastError.at) } } : {}),
  };
}

interface Tracked {
  readonly name?: string;
  readonly label: string;
  readonly keyType: string;
  /** Keys with the same config name (or, unnamed, the same key name) are one witness. */
  readonly witness: string;
}

export function trackedKeys(witnesses: readonly { readonly name?: string; readonly verifier: Verifier }[]): Tracked[] {
  return witnesses.map((w) => ({
    ...(w.name !== undefined ? { name: w.name } : {}),
    label: keyLabel(w.verifier.name, w.verifier.keyId),
    keyType: w.verifier.type === 0x06 ? 'ML-DSA-44' : 'Ed25519',
    witness: w.name ?? w.verifier.name,
  }));
}

export function agreementOf(view: LogView | undefined, state: LogState | undefined, tracked: readonly Tracked[]): NonNullable<LogStatus['agreement']> {
  // Every key that cosigned the same tree as ours (any entry with our size and root: extension
  // lines may differ between entries of one tree).
  const same = new Set<string>();
  let largest: bigint | undefined;
  for (const e of view?.all() ?? []) {
    if (largest === undefined || e.checkpoint.size > largest) largest = e.checkpoint.size;
    if (state && sameTree(e.checkpoint, state)) for (const l of e.cosignatures.keys()) same.add(l);
  }
  const witnesses: WitnessAgreement[] = tracked.map((t) => {
    const base = { ...(t.name !== undefined ? { name: t.name } : {}), key: t.label, keyType: t.keyType, witness: t.witness };
    if (same.has(t.label)) return { ...base, status: 'agrees', size: state!.size.toString() };
    const rec = view?.latestCosignedBy(t.label);
    if (!rec) return { ...base, status: 'unseen' };
    const size = rec.size.toString();
    if (!state || rec.size > state.size) return { ...base, status: 'ahead', size };
    if (rec.size < state.size) return { ...base, status: 'behind', size };
    let root: Uint8Array | undefined;
    try {
      root = parseCheckpoint(rec.logNote.text).root;
    } catch {
      // verified by the gossip layer already; unreachable in practice
    }
    return { ...base, status: root && equalBytes(root, state.root) ? 'agrees' : 'conflict', size };
  });
  // Counted per witness, not per key: a witness with an Ed25519 and an ML-DSA-44 key is one
  // operator, and counting it twice would let gossip_log_agreeing_witnesses (and the
  // GossipQuorumAtRisk alert) see a quorum that one operator alone makes.
  return {
    agreeing: new Set(witnesses.filter((w) => w.status === 'agrees').map((w) => w.witness)).size,
    tracked: new Set(tracked.map((t) => t.witness)).size,
    witnesses,
    ...(largest !== undefined ? { largestSeen: largest.toString() } : {}),
  };
}

export function createStatusSource(opts: StatusSourceOptions): StatusSource {
  const now = opts.now ?? Date.now;
  const startedAt = opts.startedAt ?? now();
  const cacheMs = opts.cacheMs ?? 1000;
  const tracked = trackedKeys(opts.witnesses ?? []);
  const gossip = (): GossipStatusView | undefined => {
    try {
      const g = opts.gossip?.();
      // peerId throws before start: treat as "no gossip yet".
      return g && g.peerId ? g : undefined;
    } catch {
      return undefined;
    }
  };
  let cached: { at: number; data: Promise<StatusData> } | undefined;

  async function gather(): Promise<StatusData> {
    const t = now();
    const g = gossip();
    const origins = opts.logs.origins();
    // One pass over evidence and suspects, grouped by origin (a per-origin listing scans anyway).
    const evidence = new Map<string, { id: string; receivedAt: number }[]>();
    // A store that cannot be read still gets a page that says so (not a 500).
    const unreadable: string[] = [];
    const read = async <T>(what: string, f: () => Promise<T>, fallback: T): Promise<T> => {
      try {
        return await f();
      } catch (e) {
        if (unreadable.length === 0) unreadable.push(`the store cannot be read (${what}: ${(e as Error)?.message ?? String(e)})`);
        return fallback;
      }
    };
    const counts = await read('evidence counts', async () => await opts.store.evidenceCounts?.(), undefined);
    const refused = new Map((counts ?? []).map((c) => [c.origin, c.refused] as const));
    const stored = new Map((counts ?? []).map((c) => [c.origin, c.stored] as const));
    const pageEvidence = opts.store.pageEvidence?.bind(opts.store);
    if (counts && pageEvidence) {
      // Bounded whatever the store holds (even one filled before the per-log cap): one page per log.
      for (const c of counts) {
        if (c.stored === 0) continue;
        const page = await read('evidence', () => pageEvidence({ origin: c.origin, limit: EVIDENCE_PER_ORIGIN }), { items: [] });
        evidence.set(c.origin, page.items.map((e) => ({ id: e.id, receivedAt: e.receivedAt })));
      }
    } else {
      for (const e of await read('evidence', () => opts.store.listEvidence(), [])) {
        let list = evidence.get(e.origin);
        if (!list) evidence.set(e.origin, (list = []));
        list.push({ id: e.id, receivedAt: e.receivedAt });
      }
    }
    const suspects = new Map<string, number>();
    for (const s of await read('suspects', () => opts.store.listSuspects(), [])) suspects.set(s.origin, (suspects.get(s.origin) ?? 0) + 1);
    const logs: LogStatus[] = [];
    const feeders = new Map((opts.feeders?.() ?? []).map((f) => [f.origin, feederStatus(f, t)] as const));
    const problems = readiness(opts.store, opts.witness).reasons;
    for (const origin of origins) {
      const f = feeders.get(origin);
      if (f?.status === 'failing') problems.push(`pulling ${origin} fails: ${f.consecutiveFailures} polls in a row (${f.lastError?.reason ?? 'unknown'}: ${(f.lastError?.message ?? '').slice(0, 200)})`);
    }
    for (const origin of origins) {
      const state = await read('state', () => opts.witness.latest(origin), undefined);
      const ev = evidence.get(origin) ?? [];
      const q = encodeURIComponent(origin);
      logs.push({
        origin,
        disabled: opts.logs.get(origin)?.disabled === true,
        ...(feeders.has(origin) ? { feeder: feeders.get(origin)! } : {}),
        ...(state
          ? { cosigned: { size: state.size.toString(), root: encodeBase64(state.root), at: new Date(state.updatedAt).toISOString(), ageSeconds: Math.max(0, Math.floor((t - state.updatedAt) / 1000)), url: `/${originHash(origin)}/checkpoint` } }
          : {}),
        ...(g ? { agreement: agreementOf(g.viewOf(origin), state, tracked) } : {}),
        evidence: {
          count: stored.get(origin) ?? ev.length,
          items: ev.slice(-MAX_EVIDENCE_ITEMS).reverse().map((e) => ({ id: e.id, url: `/evidence/${e.id}`, receivedAt: new Date(e.receivedAt).toISOString() })),
          url: `/evidence?origin=${q}`,
          ...((refused.get(origin) ?? 0) > 0 ? { refused: refused.get(origin) } : {}),
        },
        suspects: { count: suspects.get(origin) ?? 0, url: `/suspects?origin=${q}`, ...(opts.witness.suspectRepeats ? { repeats: opts.witness.suspectRepeats(origin) } : {}) },
      });
    }
    // Evidence of logs no longer followed still counts for the alarm.
    const evidenceTotal = [...evidence].reduce((n, [origin, l]) => n + (stored.get(origin) ?? l.length), 0);
    const suspectsTotal = [...suspects.values()].reduce((n, c) => n + c, 0);
    const scores = g ? [...g.scores()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
    return {
      node: { name: opts.name, vkeys: [...opts.vkeys], startedAt: new Date(startedAt).toISOString(), now: new Date(t).toISOString(), uptimeSeconds: Math.max(0, Math.floor((t - startedAt) / 1000)) },
      splitView: evidenceTotal > 0,
      health: { ready: readiness(opts.store, opts.witness).ready, problems: [...unreadable, ...problems] },
      evidenceTotal,
      suspectsTotal,
      ...(g ? { gossip: { peerId: g.peerId, peerCount: scores.length, peers: scores.map(([id, score]) => ({ id, score })) } } : {}),
      logs,
    };
  }

  return {
    collect() {
      // Real elapsed time, not the witness clock (tests may freeze that).
      const t = performance.now();
      if (!cached || t - cached.at >= cacheMs) {
        const data = gather();
        cached = { at: t, data };
        // A failed gather is not cached.
        data.catch(() => {
          if (cached?.data === data) cached = undefined;
        });
      }
      return cached.data;
    },
    async agreeing() {
      const out = new Map<string, number>();
      const g = gossip();
      if (!g) return out;
      for (const origin of opts.logs.origins()) {
        const state = await opts.witness.latest(origin);
        if (state) out.set(origin, agreementOf(g.viewOf(origin), state, tracked).agreeing);
      }
      return out;
    },
  };
}

/**
 * gossip_log_agreeing_witnesses{origin}: tracked witnesses whose cosignature is on the same tree
 * as this node's latest cosigned checkpoint (this node not counted). Computed at scrape time;
 * origins are only followed logs with a cosigned checkpoint (bounded).
 */
export function registerAgreementGauge(registry: Registry, source: Pick<StatusSource, 'agreeing'>): void {
  new Gauge({
    name: 'gossip_log_agreeing_witnesses',
    help: 'tracked witnesses whose cosignature is on the same tree as this node\'s latest cosigned checkpoint, by log origin (this node not counted)',
    labelNames: ['origin'] as const,
    registers: [registry],
    async collect() {
      const counts = await source.agreeing();
      this.reset();
      for (const [origin, n] of counts) this.set({ origin }, n);
    },
  });
}
