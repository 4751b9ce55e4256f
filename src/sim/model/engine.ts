// Model mode: a deterministic discrete-event simulation of a witness network under a split-view
// attack (docs/simulator.md#the-model). One process, simulated time, one seeded PRNG.
//
// Real code: the logs' trees (MemoryTree), checkpoint texts and log signatures (signNote), the
// witness core (Witness.add over a MemoryStore, signatures real|memoised), the evidence format
// (makeEvidence, encodeEvidence) and its verification (verifyEvidence) before a node stores or
// forwards it, and with real signatures the clients' policy check (parsePolicy,
// verifyCosignedCheckpoint). Modelled: the gossipsub network (mesh, heartbeat, IHAVE/IWANT, seen
// cache, latency, loss, partitions, churn), the view's conflict rules (same size + other root:
// evidence at once; other size: a proof request to the log), and otherwise clients (a k-of-n count).
// State is compact: per node a bitset of the items (checkpoint texts, evidence) it has seen and one
// of the texts its witness cosigned; texts are interned once per run.
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { cosignatureMessage } from '../../note/sigtypes/cosignature.js';
import { concatBytes, u64be } from '../../util/bytes.js';
import { parsePolicy, type Policy } from '../../policy/parse.js';
import { verifyCosignedCheckpoint } from '../../policy/verify.js';
import { MemoryTree } from '../../merkle/memory-tree.js';
import { formatCheckpoint, parseCheckpoint } from '../../checkpoint/checkpoint.js';
import { signNote, openNote, VerifierSet, type OpenedNote } from '../../note/note.js';
import { ed25519KeyFromSeed, cosigner, parseVkey, type Ed25519SignerKey, type Signer, type Verifier } from '../../note/keys.js';
import { Witness, type WitnessLog } from '../../witness/witness.js';
import { MemoryStore } from '../../store/memory.js';
import { encodeEvidence, makeEvidence, verifyEvidence } from '../../witness/evidence.js';
import { encodeBase64, utf8, toHex } from '../../util/bytes.js';
import { sha256 } from '../../crypto/index.js';
import type { Scenario } from '../scenario.js';
import { EventQueue } from './heap.js';
import { mlDsa44Witnesses } from '../scenario.js';
// Gossip version 2 (network.version: 2) is modelled with the exchange's own constants and encoders.
import { ANNOUNCE_TTL_MS, reachedLate, WANT_TRIES, EAGER_DEGREE, GRAFT_CHECK_MS, GRAFT_LAZY_SHARE, GRAFT_MAX, GRAFT_MIN_ITEMS, GRAFT_RECENT_MS, PRUNE_DUP_SHARE, HAVE_INTERVAL_MS, LAZY_HOLD_MS, MAX_PUSHED_SIG_BYTES, REF_BYTES, WANT_DELAY_MAX_MS, WANT_DELAY_MS, WANT_DELAY_STEP_MS, WANT_RETRY_MS, FRAME, encodeCosigs, encodeDigests, encodeFrame, type Digest } from '../../gossip/exchange.js';
import { TIMESTAMPED_MLDSA44_SIZE } from '../../note/sigtypes/mldsa44.js';
import { mlDsa44KeyFromSeed } from '../../note/mldsa-keys.js';
import { Rng, latencySampler } from './prng.js';

// Event kinds.
const PUBLISH = 0; // a = log
const POLL = 1; // a = node, b = log
const LEARN = 2; // a = node, b = item: the log hands a witness a checkpoint (push, poll answer, fetch)
const DELIVER = 3; // a = node, b = item, c = from
const HEARTBEAT = 4;
const CHECK = 5; // a = node, b = item seen, c = own item: the answer of a proof request to the log
const FETCH = 6; // a = client
const DOWN = 7; // a = node
const UP = 8; // a = node
const IHAVE = 9; // a = node, b = item, c = from
const ANSWER = 10; // a = client, b = item, c = follow slot: the answers of a fetch arrive (clients' fetch.delay)
const EXTICK = 11; // a = node: its exchange writes to each peer (version 2)
const EXFRAME = 12; // a = node, b = write id, c = from: one write of exchange frames arrives (version 2)
/** cosignature/v1 signature bytes after the key ID: u64 timestamp + Ed25519 signature. */
const COSIG_V1_SIG_BYTES = 8 + 64;
/** An ML-DSA-44 cosignature as a note line (about 3.3 KB: "— name " + base64 of key ID and timestamped signature). */
const MLDSA_LINE_BYTES = 22 + Math.ceil((4 + TIMESTAMPED_MLDSA44_SIZE) / 3) * 4;

const HONEST = 0;
const COLLUDER = 1;
const DROPPER = 2;
const ATTACKER = 3;
const MONITOR = 4;

/** A real node answers a checkpoint ahead of its own witness after this delay (src/gossip/service.ts DEFAULT_CHECK_DELAY_MS). */
const CHECK_DELAY_MS = 1000;
/** gossipsub mcache_gossip: heartbeats a message id stays in IHAVE gossip. */
const GOSSIP_WINDOWS = 3;
/** Bytes of one cosignature line (name, key ID, timestamp, signature), added to a checkpoint message. */
const COSIG_LINE_BYTES = 110;
const MSG_ID_BYTES = 20;
const CONTROL_OVERHEAD = 16;
const BASE_TIME_S = 1_700_000_000;
/** Per-witness message ids per node in the seen set (node * MSG_SPACE + id stays below 2^53). */
const MSG_SPACE = 2 ** 26;

/** An exchange write's [kind, item, w] triples for a trace: "item:w" pushed or answered, "have:item:w", "want:item:w" (w -1: the text). */
function exTraceItems(payload: readonly number[]): string {
  const out: string[] = [];
  for (let j = 0; j < payload.length; j += 3) out.push(`${['', 'have:', 'want:'][payload[j]]}${payload[j + 1]}:${payload[j + 2]}`);
  return out.join(' ');
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

interface Item {
  readonly kind: 0 | 1; // 0 checkpoint text, 1 evidence
  readonly log: number;
  readonly branch: number; // 0 A, 1 B (evidence: -1)
  readonly size: number;
  readonly note: string; // log-signed note (text items) or canonical evidence JSON
  readonly bytes: number; // wire size
  opened?: OpenedNote;
  verified?: boolean;
  firstAt: number;
  reachedHonest: number;
  lastHonestAt: number;
}

interface LogState {
  readonly origin: string;
  readonly key: Ed25519SignerKey;
  readonly verifiers: VerifierSet;
  readonly trees: (MemoryTree | null)[]; // per branch (null: not started)
  latest: Int32Array; // per branch: latest item, -1 none
  forkSize: number; // -1: not forked; else the size where the first branch left A
  forkSizes: Float64Array; // per branch: the size where it left A (A: Infinity)
  bySize: Map<number, Int32Array>;
}

export interface EngineOutput {
  readonly honest: number[];
  readonly detectedAt: Float64Array;
  readonly forkAtMs: number | null;
  readonly clientsTotal: number;
  readonly falseAccepts: number;
  readonly forkedAccepts: number;
  readonly messages: number;
  readonly bytes: number;
  readonly deliveryRatio: number;
  readonly propagation: number[];
  readonly evidence: string | null;
  readonly evidenceCount: number;
  readonly logVkeys: string[];
  readonly signaturesVerified: number;
  readonly events: number;
  readonly roles: { honest: number; colluding: number; droppers: number; attackers: number; branchB: number };
  readonly exchange: { checkpointBytes: number; cosigsBytes: number; haveBytes: number; wantBytes: number; itemsAnsweringWant: number } | null;
  /** Per client: population index, branch shown, colluders among its n, first post-fork accept and evidence times (absolute ms, -1 never). */
  readonly perClient: { population: Int32Array; branch: Uint8Array; colluders: Int32Array; acceptAt: Float64Array; acceptLatency: Float64Array; detectAt: Float64Array; falseAccept: Uint8Array; forkedAccept: Uint8Array };
  /**
   * Per (client, log it follows), when a population states clients.populations[].logs (else null):
   * the same columns per log; perClient above is then the any-log aggregate (branch: the highest
   * branch shown on any log; accept and detect: the earliest; false and forked accept: on any log).
   */
  readonly perClientLog: { client: Int32Array; log: Int32Array; branch: Uint8Array; acceptAt: Float64Array; acceptLatency: Float64Array; detectAt: Float64Array; falseAccept: Uint8Array; forkedAccept: Uint8Array } | null;
  /** Monitors (non-witness gossip nodes): when each held evidence (absolute ms, -1 never). */
  readonly monitorsDetectedAt: Float64Array;
  /** Per forked log (adversary.log, adversary.forks): when it forked (null: never) and when each gossip node first held evidence against it (absolute ms, -1 never). */
  readonly forkedLogs: { log: number; forkAtMs: number | null; detectedAt: Float64Array }[];
  /** Per monitor: the branch it is shown (0 A). */
  readonly monitorBranch: Uint8Array;
  /** Per witness: its role (0 honest, 1 colluding, 2 behaviour class, 3 attacker) and branch. */
  readonly nodeRole: Uint8Array;
  readonly nodeBranch: Uint8Array;
  readonly trace: readonly string[];
}

export class ModelEngine {
  private readonly s: Scenario;
  private readonly rng: Rng;
  private readonly lat: () => number;
  private readonly q = new EventQueue();
  private readonly N: number; // witnesses
  private readonly G: number; // witnesses + monitors (the gossip nodes of the peer graph)
  private readonly total: number; // witnesses + monitors + attackers
  private readonly xr: Rng;
  /** Branches of the forked log (A, B, C, ...); their start, end, leaves per checkpoint, serving lag. */
  private readonly NB: number;
  private readonly brAt: Float64Array;
  private readonly brUntil: Float64Array;
  private readonly brBatch: Int32Array;
  private readonly brLag: Float64Array;
  /** Per log: its own branch-B schedule (adversary.forks[i].until/batch/lag), else NaN / 0: the shared one shifted. */
  private readonly fkUntil: Float64Array;
  private readonly fkBatch: Int32Array;
  private readonly fkLag: Float64Array;
  private readonly behaviour: Int8Array;
  private readonly classes: { drop: 'all' | 'evidence' | 'checkpoints' | 'none'; dropRate: number; delayMs: number; invalidRate?: number; push?: boolean | null }[] = [];
  /** Each witness's poll interval (witnesses.pollInterval, or its behaviour class's). */
  private readonly pollMs: Float64Array;
  // Peer scoring (network.scoring): per (node, peer) [first deliveries, mesh deliveries, invalid, in mesh since (-1: not)].
  private readonly sc: Scenario['network']['scoring'];
  private readonly score = new Map<number, Float64Array>();
  private readonly graylisted = new Map<number, number>();
  private readonly logCuts: { atMs: number; untilMs: number; side: Uint8Array }[] = [];
  private readonly clientCuts: { atMs: number; untilMs: number; side: Uint8Array }[] = [];
  private readonly eclipseCuts: { atMs: number; untilMs: number; isTarget: Uint8Array; lo: number; hi: number }[] = [];
  private readonly region: Uint8Array;
  private readonly R: number;
  private logRegion: number;
  private latM: (() => number)[] | null = null;
  private readonly cK: Int32Array;
  private readonly cN: Int32Array;
  private readonly cOff: Int32Array;
  private readonly cPop: Int32Array;
  private readonly sAcceptAt: Float64Array;
  private readonly sDetectAt: Float64Array;
  private readonly traces: string[] | null = null;
  private readonly L: number;
  private readonly role: Uint8Array;
  private readonly isB: Uint8Array;
  private readonly pushed: Uint8Array;
  private readonly down: Uint8Array;
  // Peer graph (CSR; null for full topology) and gossipsub mesh.
  private readonly adjOff: Int32Array | null;
  private readonly adj: Int32Array | null;
  private readonly mesh: Int32Array;
  private readonly meshCnt: Uint8Array;
  private readonly dirty = new Set<number>();
  // Items and per-node bitsets.
  private readonly items: Item[] = [];
  private readonly W: number; // words per bitset
  private readonly seen: Uint32Array;
  /** Per item: how many nodes have it (when all do, IHAVE gossip about it can find no taker). */
  private readonly seenCount: Int32Array;
  private readonly cosigned: Uint32Array;
  private readonly ownItem: Int32Array; // node*L+log
  private readonly detectedAt: Float64Array; // per node, forked log
  private readonly postFork: Uint8Array; // (pfSlot[log]*total+node)*NB+branch: cosigned a post-fork checkpoint of a followed forked log on that branch
  /** Per log: its block in postFork (the forked logs some client follows), -1 none. */
  private readonly pfSlot: Int32Array;
  /** Per node: the message ids it forwarded recently and when, flat: [g, at, g, at, ...]. */
  private readonly mcache = new Map<number, number[]>();
  private readonly logs: LogState[] = [];
  private readonly evidenceByPair = new Map<string, number>();
  private readonly partitions: { atMs: number; untilMs: number; side: Uint8Array }[] = [];
  // Witness cores (signatures real|memoised).
  private readonly witnesses: (Witness | null)[] = [];
  private readonly colluderB: (Witness | null)[] = [];
  private readonly witnessLogs: WitnessLog[] = [];
  private readonly memo = new Map<string, boolean>();
  // Clients.
  private readonly C: number;
  private readonly clientW: Int32Array;
  private readonly clientB: Uint8Array;
  // Per follow slot (client c's slots are fOff[c] .. fOff[c+1]-1, one per log it follows): the log,
  // the branch shown on it, protected (refused it on evidence), false and forked accepts, times.
  private readonly fOff: Int32Array;
  private readonly sLog: Int32Array;
  private readonly sB: Uint8Array;
  private readonly sProt: Uint8Array;
  private readonly sFalse: Uint8Array;
  private readonly sForked: Uint8Array;
  /** Per population: 1 if it states logs (evidence counts per log), 0 (the old rule: evidence against any forked log). */
  private readonly popPerLog: Uint8Array;
  /** Per log: 1 if some client follows it. */
  private readonly followed: Uint8Array;
  /** Per log: the first evidence against it (reporting clients and real-signature checks of per-log populations). */
  private readonly firstEvByLog = new Map<number, number>();
  // Per-witness messages (network.messages: per-witness).
  private readonly perWitness: boolean;
  private readonly NW: number; // words per witness bitset
  private readonly tracked: Uint32Array | null; // per node: the witnesses it tracks (null: all)
  private readonly msgText: number[] = [];
  private readonly msgSnap: Uint32Array[] = [];
  private readonly msgBytes: number[] = [];
  private readonly seenMsg = new Set<number>();
  private readonly knownCos = new Map<number, Uint32Array>();
  // Gossip version 2 (network.version: 2): the exchange (src/gossip/exchange.ts) per directed edge.
  private readonly v2: boolean;
  private readonly tickPhase: Float64Array;
  private readonly tickAt: Float64Array;
  /** Per node: its eager peers (it chose EAGER_DEGREE, and those that chose it). */
  private readonly eager: Set<number>[] = [];
  /** Witnesses with ML-DSA-44 keys: their cosignatures are announced, never pushed. */
  private readonly mldsa: Uint8Array;
  private readonly mldsaMask: Uint32Array | null = null;
  /** Per directed edge u*total+v: items queued for u's next write to v (pushed, or a WANT answered). */
  private readonly exOut = new Map<number, number[]>();
  /** Per directed edge: keys (exKey) u knows v holds (sent, announced, received). */
  private readonly exKnown = new Map<number, Set<number>>();
  /** Per directed edge: items (REFs) with something to announce in the next HAVE, and when the last HAVE went. */
  private readonly exDirty = new Map<number, Set<number>>();
  private readonly exLastHave = new Map<number, number>();
  /** Per node * item space: what peers announced that the node lacks (Exchange's Announced: per item first seen, last asked, times asked). */
  private readonly exAnn = new Map<number, { firstAt: number; peers: Map<number, Set<number>>; items: Map<number, { seen: number; at: number; n: number }>; last: number }>();
  /** Per node: items taken from a lazy link, held back from its eager peers until LAZY_HOLD_MS later (flat [until, item, w, ...]). */
  private readonly exHold = new Map<number, number[]>();
  private readonly exActive = new Map<number, Set<number>>();
  /**
   * Per node: announcements no longer active, kept (as the node keeps `announced`) so that an eager
   * copy of an item fetched with a WANT is seen as trailing it; dropped ANNOUNCE_TTL_MS after the
   * first announcement (flat [firstAt, item, ...]).
   */
  private readonly exInactive = new Map<number, number[]>();
  /** Per node: its adaptive WANT wait (Exchange.wantDelay) and when it last decayed. */
  private exWantDelay = new Float64Array(0);
  private exWantDelayAt = new Float64Array(0);
  /** Per node: the peers it chose (EAGER_DEGREE) and those it grafted (Exchange.graftCheck). */
  private readonly exChosen: Set<number>[] = [];
  private readonly exGrafted: Set<number>[] = [];
  /** Per node: the graft window (first copies from eager / lazy peers, lazy ones by peer, the last lazy one, the next check). */
  private exWinEager = new Float64Array(0);
  private exWinLazy = new Float64Array(0);
  private exWinTrailing = new Float64Array(0);
  private exLastLazy = new Float64Array(0);
  private exGraftNext = new Float64Array(0);
  private readonly exLazyBy = new Map<number, Map<number, number>>();
  /** Per node v, per peer: items v received from the peer in the window, duplicates among them, prune strikes. */
  private readonly exLinkWin = new Map<number, Map<number, [number, number, number]>>();
  private readonly grafting: boolean;
  /** Grafts and prunes made (result counters). */
  exGrafts = 0;
  exPrunes = 0;
  /** Writes in flight: flat [kind, item, w, ...] (kind 0 item, 1 HAVE entry, 2 WANT entry; w -1: the text). */
  private readonly exWrites = new Map<number, number[]>();
  /** network.retransmit: per link (v * total + p), when its last write arrives (in-order delivery). */
  private readonly exLinkFree = new Map<number, number>();
  private exWriteId = 0;
  private readonly noteFrameBytes = new Map<number, number>();
  private readonly exBytes = { checkpointBytes: 0, cosigsBytes: 0, haveBytes: 0, wantBytes: 0, itemsAnsweringWant: 0 };
  // Real signatures: each witness's cosignature lines on the clients' log, and the clients' policies.
  private readonly cosLines: Map<number, string> | null;
  private readonly cosVkeys: string[] = [];
  private readonly policies = new Map<number, Policy>();
  private now = 0;
  private messages = 0;
  private bytes = 0;
  private verifies = 0;
  private events = 0;
  private firstEvidence: number = -1;
  private readonly advLog: number;
  /** Per log: 1 if it forks (adversary.log and adversary.forks), and how far its branch schedule is shifted from adversary.forkAt. */
  private readonly forked: Uint8Array;
  /** Branch per node of a further forked log with its own branchB (else isB applies). */
  private readonly isBLog = new Map<number, Uint8Array>();
  private readonly shift: Float64Array;
  /** Per forked log: when each gossip node first held evidence against it (absolute ms, -1 never). */
  private readonly detectedByLog = new Map<number, Float64Array>();
  /** Per log: when it signed its first forked checkpoint (-1 never). */
  private readonly forkTimes: Float64Array;
  /** Per client: the time from the fetch that accepted first after the fork to the accept (fetch.delay plus the k-th answer), -1 never. */
  private readonly sAcceptLatency: Float64Array;
  /** Clients' regions (network.regions) and answer latency samplers per population (null: answers are instant). */
  private readonly clientRegion: Uint8Array;
  private readonly fetchLat: ((() => number) | 'network' | null)[] = [];
  private netLatC: (() => number) | null = null;
  private clientLatM: (() => number)[] | null = null;

  /** Round trip from client c to witness w and back (fetch.latency: two one-way draws). */
  private clientRtt(c: number, w: number): number {
    const f = this.fetchLat[this.cPop[c]]!;
    if (f !== 'network') return f() + f();
    if (this.clientLatM) {
      const m = this.clientLatM[this.clientRegion[c] * this.R + this.region[w]];
      return m() + m();
    }
    return this.netLatC!() + this.netLatC!();
  }
  /** When the log signed its first branch-B checkpoint: detection times count from here. */
  private forkTime = -1;

  /** opts.graft: false keeps the chosen eager links fixed (tests of the other exchange rules). */
  constructor(s: Scenario, seed: number, opts: { graft?: boolean } = {}) {
    this.grafting = opts.graft ?? true;
    this.s = s;
    this.sc = s.network.scoring;
    this.rng = new Rng(seed);
    // New features draw from their own stream, so that scenarios without them run as before.
    this.xr = new Rng((seed ^ 0x5eed1e55) >>> 0);
    const setup = this.rng.fork();
    this.lat = latencySampler(s.network.latency, this.rng.fork());
    this.N = s.network.nodes;
    this.G = this.N + s.network.monitors.count;
    const a = s.adversary;
    const legacyAttackers = a?.eclipse ? a.eclipse.attackers : 0;
    const eclipseAttackers = a ? a.eclipses.reduce((t, e) => t + e.attackers, 0) : 0;
    this.total = this.G + legacyAttackers + eclipseAttackers;
    this.L = s.logs.count;
    this.advLog = a ? a.log : -1;
    this.forked = new Uint8Array(s.logs.count);
    this.shift = new Float64Array(s.logs.count);
    this.forkTimes = new Float64Array(s.logs.count).fill(-1);
    if (a) {
      this.forked[a.log] = 1;
      for (const f of a.forks) {
        this.forked[f.log] = 1;
        this.shift[f.log] = f.forkAtMs - a.forkAtMs;
      }
    }
    this.NB = a ? 2 + a.branches.length : 1;
    this.brAt = new Float64Array(this.NB);
    this.brUntil = new Float64Array(this.NB).fill(Infinity);
    this.brBatch = new Int32Array(this.NB).fill(s.logs.batch);
    this.brLag = new Float64Array(this.NB);
    this.fkUntil = new Float64Array(s.logs.count).fill(NaN);
    this.fkBatch = new Int32Array(s.logs.count);
    this.fkLag = new Float64Array(s.logs.count).fill(NaN);
    if (a)
      for (const f of a.forks)
        if (f.schedule) {
          this.fkUntil[f.log] = f.schedule.untilMs ?? Infinity;
          this.fkBatch[f.log] = f.schedule.batch;
          this.fkLag[f.log] = f.schedule.lagMs;
        }
    if (a) {
      const scheds = [a.branchSchedule, ...a.branches];
      scheds.forEach((x, i) => {
        this.brAt[i + 1] = x.atMs;
        this.brUntil[i + 1] = x.untilMs ?? Infinity;
        this.brBatch[i + 1] = x.batch;
        this.brLag[i + 1] = x.lagMs;
      });
    }
    this.role = new Uint8Array(this.total);
    this.isB = new Uint8Array(this.total);
    this.pushed = new Uint8Array(this.total);
    this.down = new Uint8Array(this.total);
    this.behaviour = new Int8Array(this.total).fill(-1);
    this.pollMs = new Float64Array(this.N).fill(s.witnesses.pollIntervalMs);
    for (let i = this.N; i < this.G; i++) this.role[i] = MONITOR;
    for (let i = this.G; i < this.total; i++) this.role[i] = ATTACKER;
    // Roles: colluders, droppers (never the eclipse target), branch B among the rest.
    const order = Array.from({ length: this.N }, (_, i) => i);
    setup.shuffle(order);
    const target = a?.eclipse ? a.eclipse.target : -1;
    const pool = order.filter((i) => i !== target);
    let p = 0;
    for (let i = 0; i < (a?.colluding ?? 0) && p < pool.length; i++) this.role[pool[p++]] = COLLUDER;
    const nDrop = a?.droppers ? Math.round(a.droppers.fraction * this.N) : 0;
    if (a?.droppers) this.classes.push({ drop: 'all', dropRate: a.droppers.dropRate, delayMs: a.droppers.delayMs });
    for (let i = 0; i < nDrop && p < pool.length; i++) {
      this.role[pool[p]] = DROPPER;
      this.behaviour[pool[p++]] = 0;
    }
    for (const b of s.network.behaviours) {
      const cls = this.classes.length;
      this.classes.push({ drop: b.drop, dropRate: b.dropRate, delayMs: b.delayMs, invalidRate: b.invalidRate, push: b.push });
      // A class that only sets how its nodes learn of checkpoints (poll interval, push) describes
      // honest witnesses configured otherwise: they stay honest (counted in detection).
      const honest = b.drop === 'none' && b.delayMs === 0 && b.invalidRate === 0;
      const mark = (v: number) => {
        if (this.role[v] === COLLUDER) return;
        if (!honest) this.role[v] = DROPPER;
        this.behaviour[v] = cls;
        if (b.pollIntervalMs !== null) this.pollMs[v] = b.pollIntervalMs;
      };
      if ('nodes' in b.witnesses) b.witnesses.nodes.forEach(mark);
      else {
        const k = Math.round(b.witnesses.fraction * this.N);
        for (let i = 0; i < k && p < pool.length; i++) mark(pool[p++]);
      }
    }
    if (a) {
      if ('nodes' in a.branchB) for (const n of a.branchB.nodes) this.isB[n] = 1;
      const rest = order.filter((i) => this.role[i] !== COLLUDER);
      let r0 = 0;
      if (!('nodes' in a.branchB)) {
        const nb = Math.round(a.branchB.fraction * rest.length);
        for (let i = 0; i < nb; i++) this.isB[rest[i]] = 1;
        r0 = nb;
      }
      a.branches.forEach((br, j) => {
        if ('nodes' in br.witnesses) for (const n of br.witnesses.nodes) this.isB[n] = j + 2;
        else {
          const nb = Math.round(br.witnesses.fraction * rest.length);
          for (let i = 0; i < nb && r0 < rest.length; r0++) {
            if (this.isB[rest[r0]] !== 0) continue;
            this.isB[rest[r0]] = j + 2;
            i++;
          }
        }
      });
      // Monitors (non-witness gossip nodes) by their own fraction (branchB.monitors, branches[].monitors), or by id in nodes.
      const mons = Array.from({ length: this.G - this.N }, (_, i) => this.N + i);
      if (mons.length > 0 && (a.branchMonitors > 0 || a.branches.some((br) => br.monitors > 0))) {
        new Rng((seed ^ 0x6d6f6e31) >>> 0).shuffle(mons);
        let m0 = 0;
        [a.branchMonitors, ...a.branches.map((br) => br.monitors)].forEach((f, j) => {
          const k = Math.round(f * mons.length);
          for (let i = 0; i < k && m0 < mons.length; m0++) {
            if (this.isB[mons[m0]] !== 0) continue;
            this.isB[mons[m0]] = j + 1;
            i++;
          }
        });
      }
      // A further forked log with its own branch-B witnesses (adversary.forks[i].branchB): the primary
      // assignment with branch B replaced (other branches and the monitors as on the primary log).
      a.forks.forEach((f, fi) => {
        if (!f.branchB) return;
        const own = this.isB.slice();
        for (let i = 0; i < this.N; i++) if (own[i] === 1) own[i] = 0;
        if ('nodes' in f.branchB) for (const n of f.branchB.nodes) own[n] = 1;
        else {
          const cand = order.filter((i) => this.role[i] !== COLLUDER && own[i] === 0);
          new Rng((seed ^ (0x666f726b + fi)) >>> 0).shuffle(cand);
          const k = Math.round(f.branchB.fraction * rest.length);
          for (let i = 0; i < k && i < cand.length; i++) own[cand[i]] = 1;
        }
        this.isBLog.set(f.log, own);
      });
    }
    const pushOrder = order.slice();
    setup.shuffle(pushOrder);
    const nPush = Math.round(s.witnesses.push * this.N);
    for (let i = 0; i < nPush; i++) this.pushed[pushOrder[i]] = 1;
    // A behaviour class may decide push or poll for its nodes (the draw above is made all the same).
    for (let v = 0; v < this.N; v++) {
      const push = this.behaviour[v] >= 0 ? this.classes[this.behaviour[v]].push : undefined;
      if (push === true || push === false) this.pushed[v] = push ? 1 : 0;
    }
    // Peer graph and mesh.
    [this.adjOff, this.adj] = this.buildGraph(setup, target, legacyAttackers);
    this.mesh = new Int32Array(this.total * s.network.meshHigh).fill(-1);
    this.meshCnt = new Uint8Array(this.total);
    const meshOrder = Array.from({ length: this.total }, (_, i) => i);
    setup.shuffle(meshOrder);
    for (const v of meshOrder) this.graft(v, setup);
    for (const part of s.network.partitions) {
      const side = new Uint8Array(this.total);
      if (part.byBranch) side.set(this.isB);
      else if (part.groups) part.groups.forEach((g, j) => g.forEach((v) => (side[v] = j + 1)));
      else {
        const o = Array.from({ length: part.kind === 'gossip' ? this.total : this.N }, (_, i) => i);
        setup.shuffle(o);
        const k = Math.round(part.fraction * o.length);
        for (let i = 0; i < k; i++) side[o[i]] = 1;
      }
      const cut = { atMs: part.atMs, untilMs: part.untilMs, side };
      if (part.kind === 'gossip') this.partitions.push(cut);
      else if (part.kind === 'log-witness') this.logCuts.push(cut);
      else this.clientCuts.push(cut);
    }
    // Eclipses with a schedule: the targets' links to anyone but their attackers are cut in the window.
    if (a && a.eclipses.length > 0) {
      let next = this.G + legacyAttackers;
      for (const e of a.eclipses) {
        const isTarget = new Uint8Array(this.total);
        for (const t of e.targets) isTarget[t] = 1;
        this.eclipseCuts.push({ atMs: e.atMs, untilMs: e.untilMs, isTarget, lo: next, hi: next + e.attackers });
        next += e.attackers;
      }
    }
    this.cutting = this.partitions.length > 0 || this.eclipseCuts.length > 0;
    // Regions: latency by region pair.
    const reg = s.network.regions;
    this.region = new Uint8Array(this.total);
    this.R = reg ? reg.names.length : 1;
    this.logRegion = 0;
    if (reg) {
      const o = Array.from({ length: this.G }, (_, i) => i);
      this.xr.shuffle(o);
      let at = 0;
      reg.fractions.forEach((f, ri) => {
        const k = ri === reg.fractions.length - 1 ? o.length - at : Math.round(f * this.G);
        for (let i = 0; i < k && at < o.length; i++) this.region[o[at++]] = ri;
      });
      this.logRegion = reg.names.indexOf(reg.logRegion);
      this.latM = [];
      for (let x = 0; x < this.R; x++)
        for (let y = 0; y < this.R; y++) {
          const m = reg.latency[`${reg.names[x]}-${reg.names[y]}`] ?? reg.latency[`${reg.names[y]}-${reg.names[x]}`];
          this.latM.push(latencySampler(m, this.xr.fork()));
        }
    }
    // Items: at most one text per log, branch and publish, and evidence per forked publish pair.
    const ticks = Math.ceil(s.durationMs / s.logs.intervalMs) + 2;
    const maxItems = this.L * ticks * this.NB + ticks * 16 * this.NB * this.NB + 256;
    this.W = (maxItems + 31) >>> 5;
    this.seen = new Uint32Array(this.total * this.W);
    this.seenCount = new Int32Array(this.W * 32);
    this.cosigned = new Uint32Array(this.total * this.W);
    this.ownItem = new Int32Array(this.total * this.L).fill(-1);
    this.detectedAt = new Float64Array(this.total).fill(-1);
    // Follow slots: which logs each client follows (populations[].logs; else adversary.log, or 0).
    {
      const pops = s.clients.populations;
      this.followed = new Uint8Array(this.L);
      this.popPerLog = Uint8Array.from(pops, (pp) => (pp.logs ? 1 : 0));
      for (const pp of pops) if (pp.count > 0) for (const l of pp.logs ?? [Math.max(0, this.advLog)]) this.followed[l] = 1;
      this.pfSlot = new Int32Array(this.L).fill(-1);
      let nf = 0;
      for (let l = 0; l < this.L; l++) if (this.followed[l] && this.forked[l]) this.pfSlot[l] = nf++;
      this.postFork = new Uint8Array(this.total * Math.max(1, nf) * this.NB);
    }
    this.cosLines = s.signatures === 'real' ? new Map() : null;
    this.perWitness = s.network.messages === 'per-witness';
    this.NW = (this.total + 31) >>> 5;
    this.tracked = null;
    this.v2 = s.network.version === 2;
    this.tickPhase = new Float64Array(this.v2 ? this.total : 0);
    this.tickAt = new Float64Array(this.v2 ? this.total : 0).fill(-1);
    this.mldsa = new Uint8Array(this.total);
    for (const w of mlDsa44Witnesses(s)) this.mldsa[w] = 1;
    if (s.witnesses.mlDsa44 > 0) {
      this.mldsaMask = new Uint32Array(this.NW);
      for (const w of mlDsa44Witnesses(s)) this.mldsaMask[w >>> 5] |= 1 << (w & 31);
    }
    if (this.v2) {
      this.exWantDelay = new Float64Array(this.total).fill(WANT_DELAY_MS);
      this.exWantDelayAt = new Float64Array(this.total);
      this.exWinEager = new Float64Array(this.total);
      this.exWinLazy = new Float64Array(this.total);
      this.exWinTrailing = new Float64Array(this.total);
      this.exLastLazy = new Float64Array(this.total).fill(-Infinity);
      this.exGraftNext = new Float64Array(this.total);
      // Each node checks at its own phase (its own stream: the other draws stay as they were).
      const gr = new Rng((seed ^ 0x6a7f3c11) >>> 0);
      for (let v = 0; v < this.total; v++) this.exGraftNext[v] = gr.float() * GRAFT_CHECK_MS;
      // Each node's tick phase, and its eager peers: EAGER_DEGREE chosen among its peers (the node
      // picks by a hash of (node, peer); here at random), symmetric (a peer pushed to pushes back).
      const er = new Rng((seed ^ 0x0e2c4a9e) >>> 0);
      for (let v = 0; v < this.total; v++) {
        this.tickPhase[v] = er.float() * s.network.exchangeTickMs;
        this.eager.push(new Set());
        this.exChosen.push(new Set());
        this.exGrafted.push(new Set());
      }
      for (let v = 0; v < this.G; v++) {
        const deg = this.peerCount(v);
        for (let k = 0, tries = 0; k < Math.min(EAGER_DEGREE, deg) && tries < 8 * EAGER_DEGREE + 8; tries++) {
          const p = this.peerAt(v, er.int(deg));
          // Each node's choice is its own (Exchange.rank hashes (node, peer)): two nodes may choose
          // each other, one edge for two choices, as in the node.
          if (this.exChosen[v].has(p)) continue;
          this.eager[v].add(p);
          this.eager[p].add(v);
          this.exChosen[v].add(p);
          k++;
        }
      }
    }
    if ((this.perWitness || this.v2) && s.witnesses.knownWitnesses < this.N - 1) {
      // Each node tracks itself and knownWitnesses others, at random.
      const t = new Uint32Array(this.total * this.NW);
      for (let v = 0; v < this.total; v++) {
        t[v * this.NW + (v >>> 5)] |= 1 << (v & 31);
        const others = order.filter((x) => x !== v);
        for (let i = 0; i < s.witnesses.knownWitnesses; i++) {
          const j = i + setup.int(others.length - i);
          [others[i], others[j]] = [others[j], others[i]];
          t[v * this.NW + (others[i] >>> 5)] |= 1 << (others[i] & 31);
        }
      }
      this.tracked = t;
    }
    // Logs: real keys, trees and signed checkpoints.
    for (let l = 0; l < this.L; l++) {
      const origin = `sim.example/log${l}`;
      const key = ed25519KeyFromSeed(origin, this.seedBytes(setup));
      const verifiers = new VerifierSet([this.countingVerifier(key, s.signatures !== 'real')]);
      const trees: (MemoryTree | null)[] = Array.from({ length: this.NB }, () => null);
      trees[0] = new MemoryTree();
      this.logs.push({ origin, key, verifiers, trees, latest: new Int32Array(Math.max(2, this.NB)).fill(-1), forkSize: -1, forkSizes: new Float64Array(this.NB).fill(Infinity), bySize: new Map() });
      this.witnessLogs.push({ origin, verifiers });
    }
    // Witness cores with real signatures (real | memoised); modelled mode applies the same rule compactly.
    if (s.signatures !== 'modelled') {
      const registry = { get: (o: string) => this.witnessLogs.find((w) => w.origin === o) };
      for (let i = 0; i < this.N; i++) {
        const seedBytes = this.seedBytes(setup);
        const clock = () => BigInt(BASE_TIME_S + Math.floor(this.now / 1000));
        let signer: Signer;
        if (this.mldsa[i]) {
          // witnesses.mlDsa44: a real ML-DSA-44 key (0x06 cosignatures through the witness core; clients verify them).
          const key = mlDsa44KeyFromSeed(`w${i}.sim.example`, seedBytes);
          this.cosVkeys.push(key.vkey);
          signer = key.cosigner(clock);
        } else {
          const key = ed25519KeyFromSeed(`w${i}.sim.example`, seedBytes);
          this.cosVkeys.push(key.cosignatureVkey);
          signer = cachedKeyCosigner(key, clock);
        }
        const mk = () => new Witness({ store: new MemoryStore(), logs: registry, cosigners: [signer], now: () => BASE_TIME_S * 1000 + this.now });
        this.witnesses.push(this.role[i] === ATTACKER ? null : mk());
        this.colluderB.push(this.role[i] === COLLUDER ? mk() : null);
      }
    }
    // Clients, by population: each trusts n witnesses (with trust: first, every colluder first: the
    // theory's c of n; then random others), or one of a few popular shared sets.
    const pops = s.clients.populations;
    this.C = s.clients.count;
    this.cK = new Int32Array(this.C);
    this.cN = new Int32Array(this.C);
    this.cOff = new Int32Array(this.C + 1);
    this.cPop = new Int32Array(this.C);
    for (let c = 0, pi = 0, left = pops[0]?.count ?? 0; c < this.C; c++) {
      while (left === 0) left = pops[++pi].count;
      left--;
      this.cPop[c] = pi;
      this.cK[c] = pops[pi].policy.k;
      this.cN[c] = pops[pi].policy.n;
      this.cOff[c + 1] = this.cOff[c] + this.cN[c];
    }
    this.clientW = new Int32Array(this.cOff[this.C]);
    this.clientB = new Uint8Array(this.C);
    this.fOff = new Int32Array(this.C + 1);
    const followOf = pops.map((pp) => pp.logs ?? [Math.max(0, this.advLog)]);
    for (let c = 0; c < this.C; c++) this.fOff[c + 1] = this.fOff[c] + followOf[this.cPop[c]].length;
    const F = this.fOff[this.C];
    this.sLog = new Int32Array(F);
    for (let c = 0; c < this.C; c++) this.sLog.set(followOf[this.cPop[c]], this.fOff[c]);
    this.sB = new Uint8Array(F);
    this.sProt = new Uint8Array(F);
    this.sFalse = new Uint8Array(F);
    this.sForked = new Uint8Array(F);
    this.sAcceptAt = new Float64Array(F).fill(-1);
    this.sAcceptLatency = new Float64Array(F).fill(-1);
    // Client-witness latency (fetch.latency): own streams, so that scenarios without it run as before.
    this.clientRegion = new Uint8Array(this.C);
    const cr = new Rng((seed ^ 0xc11e475) >>> 0);
    for (const pp of pops) this.fetchLat.push(pp.fetch.latency === null ? null : pp.fetch.latency === 'network' ? 'network' : latencySampler(pp.fetch.latency, cr.fork()));
    if (this.fetchLat.includes('network')) {
      this.netLatC = latencySampler(s.network.latency, cr.fork());
      const reg = s.network.regions;
      if (reg) {
        this.clientLatM = [];
        for (let x = 0; x < reg.names.length; x++)
          for (let y = 0; y < reg.names.length; y++) {
            const m = reg.latency[`${reg.names[x]}-${reg.names[y]}`] ?? reg.latency[`${reg.names[y]}-${reg.names[x]}`];
            this.clientLatM.push(latencySampler(m, cr.fork()));
          }
        // Clients are spread over the regions by the same fractions as the gossip nodes.
        const o = Array.from({ length: this.C }, (_, i) => i);
        cr.shuffle(o);
        let at = 0;
        reg.fractions.forEach((f, ri) => {
          const k = ri === reg.fractions.length - 1 ? o.length - at : Math.round(f * this.C);
          for (let i = 0; i < k && at < o.length; i++) this.clientRegion[o[at++]] = ri;
        });
      }
    }
    this.sDetectAt = new Float64Array(F).fill(-1);
    const colluders = order.filter((i) => this.role[i] === COLLUDER);
    const others = order.filter((i) => this.role[i] !== COLLUDER);
    const trustFirst = !a || a.collusion.trust === 'first';
    const drawSet = (n: number, r: Rng): number[] => {
      const pick = trustFirst ? colluders.slice(0, n) : [];
      const rest = trustFirst ? others.slice() : order.slice();
      for (let i = 0; pick.length < n; i++) {
        const j = i + r.int(rest.length - i);
        [rest[i], rest[j]] = [rest[j], rest[i]];
        pick.push(rest[i]);
      }
      return pick;
    };
    const popularSets = pops.map((pp) => (pp.witnessSets.kind === 'popular' ? Array.from({ length: pp.witnessSets.sets }, () => drawSet(pp.policy.n, this.xr)) : null));
    const zipfCdf = pops.map((pp) => {
      if (pp.witnessSets.kind !== 'popular') return null;
      const z = pp.witnessSets.zipf;
      const w = Array.from({ length: pp.witnessSets.sets }, (_, i) => 1 / (i + 1) ** z);
      const tot = w.reduce((x, y) => x + y, 0);
      let acc = 0;
      return w.map((x) => (acc += x / tot));
    });
    for (let c = 0; c < this.C; c++) {
      const pi = this.cPop[c];
      let set: number[];
      const sets = popularSets[pi];
      if (sets) {
        const u = this.xr.float();
        const cdf = zipfCdf[pi]!;
        let j = 0;
        while (j < cdf.length - 1 && u >= cdf[j]) j++;
        set = sets[j];
      } else set = drawSet(this.cN[c], setup);
      this.clientW.set(set, this.cOff[c]);
    }
    // Which clients are shown which branch: the first ones (random: the sets are random), or the
    // attacker's pick: those trusting most witnesses that cosign the branch, or an eclipsed witness.
    if (a) {
      const counts = [Math.round(a.clientsB * this.C), ...a.branches.map((b) => Math.round(b.clients * this.C))];
      if (a.targeting === 'random') {
        let c = 0;
        counts.forEach((k, j) => {
          for (let i = 0; i < k && c < this.C; i++) this.clientB[c++] = j + 1;
        });
      } else {
        const eclipsed = new Uint8Array(this.total);
        if (a.eclipse) eclipsed[a.eclipse.target] = 1;
        for (const e of a.eclipses) for (const t of e.targets) eclipsed[t] = 1;
        counts.forEach((k, j) => {
          const b = j + 1;
          const score = (c: number) => {
            let x = 0;
            for (let i = this.cOff[c]; i < this.cOff[c + 1]; i++) {
              const w = this.clientW[i];
              x += a.targeting === 'eclipse' ? eclipsed[w] : this.role[w] === COLLUDER || this.isB[w] === b ? 1 : 0;
            }
            return x;
          };
          const free = Array.from({ length: this.C }, (_, c) => c).filter((c) => this.clientB[c] === 0);
          const sc = free.map(score);
          const idx = free.map((_, i) => i).sort((x, y) => sc[y] - sc[x] || free[x] - free[y]);
          for (let i = 0; i < Math.min(k, idx.length); i++) this.clientB[free[idx[i]]] = b;
        });
      }
    }
    // The branch of each follow slot: A on a log that never forks; victims: same, the client's one
    // branch (above) on every forked log; per-log, each forked log's own pick among the per-log
    // clients following it (the same fractions and targeting, its own branch-B witnesses and stream).
    if (a) {
      for (let l = 0; l < this.L; l++) {
        if (!this.forked[l] || !this.followed[l]) continue;
        const per: number[] = [];
        const owner: number[] = [];
        for (let c = 0; c < this.C; c++)
          for (let j = this.fOff[c]; j < this.fOff[c + 1]; j++) {
            if (this.sLog[j] !== l) continue;
            if (pops[this.cPop[c]].victims === 'per-log') {
              per.push(j);
              owner.push(c);
            } else this.sB[j] = this.clientB[c];
          }
        if (per.length === 0) continue;
        const order = per.map((_, i) => i);
        new Rng((seed ^ (0x76696374 + l)) >>> 0).shuffle(order);
        const counts = [Math.round(a.clientsB * per.length), ...a.branches.map((b) => Math.round(b.clients * per.length))];
        const isBl = this.isBLog.get(l) ?? this.isB;
        const eclipsed = new Uint8Array(this.total);
        if (a.eclipse) eclipsed[a.eclipse.target] = 1;
        for (const e of a.eclipses) for (const t of e.targets) eclipsed[t] = 1;
        const rank = new Int32Array(per.length);
        order.forEach((i, r) => (rank[i] = r));
        counts.forEach((k, jb) => {
          const b = jb + 1;
          const free = order.filter((i) => this.sB[per[i]] === 0);
          if (a.targeting !== 'random') {
            const score = (i: number) => {
              let x = 0;
              for (let q = this.cOff[owner[i]]; q < this.cOff[owner[i] + 1]; q++) {
                const w = this.clientW[q];
                x += a.targeting === 'eclipse' ? eclipsed[w] : this.role[w] === COLLUDER || isBl[w] === b ? 1 : 0;
              }
              return x;
            };
            const sc = new Map(free.map((i) => [i, score(i)]));
            free.sort((x, y) => sc.get(y)! - sc.get(x)! || rank[x] - rank[y]);
          }
          for (let i = 0; i < Math.min(k, free.length); i++) this.sB[per[free[i]]] = b;
        });
      }
    }
  }

  private seedBytes(r: Rng): Uint8Array {
    const b = new Uint8Array(32);
    for (let i = 0; i < 32; i += 4) new DataView(b.buffer).setUint32(i, r.u32());
    return b;
  }

  /** The log's verifier, counting real Ed25519 checks; memoised: each distinct (key, message, signature) checked once per run. */
  private countingVerifier(key: Ed25519SignerKey, memoise: boolean): Verifier {
    const v = openNoteVerifier(key);
    return {
      ...v,
      verify: (text, sig) => {
        if (memoise) {
          const k = `${v.vkey} ${toHex(sha256(text))} ${encodeBase64(sig)}`;
          const hit = this.memo.get(k);
          if (hit !== undefined) return hit;
          this.verifies++;
          const ok = v.verify(text, sig);
          this.memo.set(k, ok);
          return ok;
        }
        this.verifies++;
        return v.verify(text, sig);
      },
    };
  }

  // ------------------------------------------------------------------ network structure

  private buildGraph(r: Rng, target: number, attackers: number): [Int32Array | null, Int32Array | null] {
    const { topology, degree, rewire } = this.s.network;
    const N = this.G;
    const extra = this.s.adversary ? this.s.adversary.eclipses.length : 0;
    if (topology === 'full' && attackers === 0 && extra === 0 && this.G === this.total) return [null, null];
    const sets: Set<number>[] = Array.from({ length: this.total }, () => new Set<number>());
    const link = (u: number, v: number) => {
      if (u === v) return;
      sets[u].add(v);
      sets[v].add(u);
    };
    if (topology === 'full') {
      for (let u = 0; u < N; u++) for (let v = u + 1; v < N; v++) link(u, v);
    } else if (topology === 'small-world') {
      const half = Math.max(1, Math.floor(degree / 2));
      for (let u = 0; u < N; u++) {
        for (let j = 1; j <= half; j++) {
          let v = (u + j) % N;
          if (r.float() < rewire) v = r.int(N);
          link(u, v);
        }
      }
    } else {
      // Random near-regular graph: stubs matched at random, self and duplicate links skipped.
      const stubs: number[] = [];
      for (let u = 0; u < N; u++) for (let j = 0; j < degree; j++) stubs.push(u);
      r.shuffle(stubs);
      for (let i = 0; i + 1 < stubs.length; i += 2) link(stubs[i], stubs[i + 1]);
      // Keep it connected in practice: a ring through a random order adds at most 2 links per node.
      const o = Array.from({ length: N }, (_, i) => i);
      r.shuffle(o);
      for (let i = 0; i < N; i++) if (sets[o[i]].size < 2) link(o[i], o[(i + 1) % N]);
    }
    if (attackers > 0 && target >= 0) {
      // Eclipse: the target's links are replaced by links to the attackers only.
      for (const v of sets[target]) sets[v].delete(target);
      sets[target].clear();
      for (let i = N; i < N + attackers; i++) {
        link(target, i);
        for (let j = 0; j < Math.min(degree, N - 1); j++) {
          const v = r.int(N);
          if (v !== target) link(i, v);
        }
      }
    }
    // Scheduled eclipses: each attacker links to its targets and to random others (the cut comes later).
    if (extra > 0) {
      let next = N + attackers;
      for (const e of this.s.adversary!.eclipses) {
        for (let i = next; i < next + e.attackers; i++) {
          for (const t of e.targets) link(t, i);
          for (let j = 0; j < Math.min(degree, N - 1); j++) link(i, this.xr.int(N));
        }
        next += e.attackers;
      }
    }
    const off = new Int32Array(this.total + 1);
    for (let u = 0; u < this.total; u++) off[u + 1] = off[u] + sets[u].size;
    const adj = new Int32Array(off[this.total]);
    for (let u = 0; u < this.total; u++) {
      // Sorted for determinism independent of insertion order.
      const list = [...sets[u]].sort((x, y) => x - y);
      adj.set(list, off[u]);
    }
    return [off, adj];
  }

  private peerCount(u: number): number {
    return this.adjOff ? this.adjOff[u + 1] - this.adjOff[u] : this.total - 1;
  }

  private peerAt(u: number, i: number): number {
    if (this.adjOff) return this.adj![this.adjOff[u] + i];
    return i >= u ? i + 1 : i;
  }

  private inMesh(u: number, v: number): boolean {
    const base = u * this.s.network.meshHigh;
    for (let i = 0; i < this.meshCnt[u]; i++) if (this.mesh[base + i] === v) return true;
    return false;
  }

  private meshAdd(u: number, v: number): void {
    this.mesh[u * this.s.network.meshHigh + this.meshCnt[u]++] = v;
    if (this.sc) this.scoreState(u, v)[3] = this.now;
  }

  private meshRemove(u: number, v: number): void {
    const base = u * this.s.network.meshHigh;
    const n = this.meshCnt[u];
    for (let i = 0; i < n; i++) {
      if (this.mesh[base + i] === v) {
        this.mesh[base + i] = this.mesh[base + n - 1];
        this.meshCnt[u]--;
        if (this.sc) {
          const st = this.score.get(u * this.total + v);
          if (st) st[3] = -1;
        }
        return;
      }
    }
  }

  /** Heartbeat mesh maintenance: drop down peers, graft up to D below Dlo, prune to D above Dhi. */
  private graft(u: number, r: Rng): void {
    const { meshDegree: D, meshLow, meshHigh } = this.s.network;
    const base = u * meshHigh;
    for (let i = this.meshCnt[u] - 1; i >= 0; i--) {
      const v = this.mesh[base + i];
      if (this.down[v]) {
        this.meshRemove(u, v);
        this.meshRemove(v, u);
      }
    }
    if (this.down[u]) return;
    if (this.meshCnt[u] < meshLow || this.meshCnt[u] === 0 || this.meshCnt[u] < D) {
      const deg = this.peerCount(u);
      for (let tries = 0; tries < 4 * deg + 8 && this.meshCnt[u] < D; tries++) {
        const v = this.peerAt(u, r.int(deg));
        if (this.down[v] || this.inMesh(u, v) || this.meshCnt[v] >= meshHigh) continue;
        if (this.sc && (this.scoreOf(u, v) < 0 || this.scoreOf(v, u) < 0 || this.isGraylisted(u, v) || this.isGraylisted(v, u))) continue;
        this.meshAdd(u, v);
        this.meshAdd(v, u);
      }
    }
    while (this.meshCnt[u] > D) {
      const v = this.mesh[base + r.int(this.meshCnt[u])];
      this.meshRemove(u, v);
      this.meshRemove(v, u);
    }
  }

  private cut(u: number, v: number, t: number): boolean {
    for (const p of this.partitions) if (t >= p.atMs && t < p.untilMs && p.side[u] !== p.side[v]) return true;
    for (const e of this.eclipseCuts) {
      if (t < e.atMs || t >= e.untilMs) continue;
      if (e.isTarget[u] && !(v >= e.lo && v < e.hi)) return true;
      if (e.isTarget[v] && !(u >= e.lo && u < e.hi)) return true;
    }
    return false;
  }

  private cutting = false;

  // ------------------------------------------------------------------ bitsets

  private has(set: Uint32Array, node: number, item: number): boolean {
    return (set[node * this.W + (item >>> 5)] & (1 << (item & 31))) !== 0;
  }

  private set(set: Uint32Array, node: number, item: number): void {
    set[node * this.W + (item >>> 5)] |= 1 << (item & 31);
  }

  // ------------------------------------------------------------------ logs

  private publish(l: number): void {
    const log = this.logs[l];
    const s = this.s;
    const a = s.adversary;
    if (this.now + s.logs.intervalMs < s.durationMs) this.q.push(this.now + s.logs.intervalMs, PUBLISH, l, 0, 0);
    if (this.forked[l] && !this.logOnline(this.now)) return;
    if (a && this.forked[l]) {
      for (let b = 1; b < this.NB; b++) {
        if (log.trees[b] || this.now < this.bAt(b, l) || this.now >= this.bUntil(b, l)) continue;
        // Fork: this branch shares A's first leaves and then diverges.
        const size = Number(log.trees[0]!.size);
        const t = new MemoryTree();
        for (let i = 0n; i < BigInt(size); i++) t.appendLeafHash(log.trees[0]!.leafHash(i));
        log.trees[b] = t;
        log.forkSizes[b] = size;
        if (log.forkSize < 0) {
          log.forkSize = size;
          this.forkTimes[l] = this.now;
          if (this.forkTime < 0) this.forkTime = this.now;
        }
      }
    }
    for (let b = 0; b < this.NB; b++) {
      const tree = log.trees[b];
      if (!tree || (b > 0 && this.now >= this.bUntil(b, l))) continue;
      const batch = b === 0 ? this.brBatch[0] : this.bBatch(b, l);
      for (let i = 0; i < batch; i++) tree.append(utf8(`${b === 0 ? 'A' : String.fromCharCode(65 + b)} ${l} ${tree.size}`));
      const size = tree.size;
      const note = signNote(formatCheckpoint({ origin: log.origin, size, root: tree.root() }), [log.key]);
      const id = this.addItem({ kind: 0, log: l, branch: b, size: Number(size), note, bytes: note.length + COSIG_LINE_BYTES, firstAt: -1, reachedHonest: 0, lastHonestAt: -1 });
      log.latest[b] = id;
      let bs = log.bySize.get(Number(size));
      if (!bs) log.bySize.set(Number(size), (bs = new Int32Array(this.NB).fill(-1)));
      bs[b] = id;
      if (b > 0) this.trace(`t=${this.now} log ${l} signs branch ${String.fromCharCode(65 + b)} size ${size}`);
    }
    // Push to the witnesses the log pushes to (each is shown its branch; colluders every branch).
    for (let w = 0; w < this.N; w++) {
      if (!this.pushed[w]) continue;
      if (this.logCuts.length > 0 && this.logCut(w)) continue;
      for (const b of this.branchesShown(w, l)) if (log.latest[b] >= 0) this.q.push(this.now + this.bLag(b, l) + this.latLog(w), LEARN, w, log.latest[b], 0);
    }
  }

  /** Is the forked log reachable now (adversary.offline windows)? */
  private logOnline(t: number): boolean {
    const a = this.s.adversary;
    if (!a) return true;
    for (const o of a.offline) if (t >= o.atMs && t < o.untilMs) return false;
    return true;
  }

  /** Is witness w cut off from the logs now (log-witness partitions)? */
  private logCut(w: number): boolean {
    for (const c of this.logCuts) if (this.now >= c.atMs && this.now < c.untilMs && c.side[w]) return true;
    return false;
  }

  /** Are clients cut off from witness w now (client-witness partitions)? */
  private clientCut(w: number): boolean {
    // The attacker who cuts clients off never cuts them off from its own (colluding) witnesses.
    if (this.role[w] === COLLUDER) return false;
    for (const c of this.clientCuts) if (this.now >= c.atMs && this.now < c.untilMs && c.side[w]) return true;
    return false;
  }

  /** One-way latency between two nodes (by region pair when regions are set). */
  private lat2(u: number, v: number): number {
    return this.latM ? this.latM[this.region[u] * this.R + this.region[v]]() : this.lat();
  }

  /** One-way latency between the log and node w. */
  private latLog(w: number): number {
    return this.latM ? this.latM[this.logRegion * this.R + this.region[w]]() : this.lat();
  }

  /** Record a trace line (--trace). */
  private trace(line: string): void {
    if (this.traceOn) this.traceLines.push(line);
  }

  private traceOn = false;
  readonly traceLines: string[] = [];

  /** Node u's mesh peers now (for tests and traces). */
  meshOf(u: number): number[] {
    return Array.from(this.mesh.subarray(u * this.s.network.meshHigh, u * this.s.network.meshHigh + this.meshCnt[u]));
  }

  /** Each gossip node's region index (network.regions; all 0 without). */
  regions(): Uint8Array {
    return this.region.slice(0, this.G);
  }

  /** Turn on event traces (fork, evidence, detection, client decisions). */
  enableTrace(): void {
    this.traceOn = true;
  }

  /** The branch the log shows node w (or a client) now: its own while that branch runs, else A. */
  /** Branch b's start, end, leaves per checkpoint and serving lag on log l (absolute ms). */
  private bAt(b: number, l: number): number {
    return this.brAt[b] + this.shift[l];
  }
  private bUntil(b: number, l: number): number {
    return b === 1 && !Number.isNaN(this.fkUntil[l]) ? this.fkUntil[l] : this.brUntil[b] + this.shift[l];
  }
  private bBatch(b: number, l: number): number {
    return b === 1 && this.fkBatch[l] > 0 ? this.fkBatch[l] : this.brBatch[b];
  }
  private bLag(b: number, l: number): number {
    return b === 1 && !Number.isNaN(this.fkLag[l]) ? this.fkLag[l] : this.brLag[b];
  }

  private branchNow(b: number, l: number): number {
    return b > 0 && (this.now < this.bAt(b, l) || this.now >= this.bUntil(b, l) || this.logs[l].trees[b] === null) ? 0 : b;
  }

  /** Are two checkpoints of one log consistent (one a prefix of the other)? */
  private consistent(x: number, y: number): boolean {
    const a = this.items[x];
    const b = this.items[y];
    if (a.branch === b.branch) return true;
    const log = this.logs[a.log];
    const div = Math.min(log.forkSizes[a.branch], log.forkSizes[b.branch]);
    return Math.min(a.size, b.size) <= div;
  }

  private addItem(it: Item): number {
    if (this.items.length >= this.W * 32) throw new Error('simulator item table full');
    this.items.push(it);
    return this.items.length - 1;
  }

  private branchesShown(w: number, l: number): number[] {
    const log = this.logs[l];
    if (!this.forked[l] || log.forkSize < 0) return [0];
    if (this.role[w] === COLLUDER) {
      const out = [0];
      for (let b = 1; b < this.NB; b++) if (log.trees[b] && this.now < this.bUntil(b, l)) out.push(b);
      return out;
    }
    return [this.branchNow((this.isBLog.get(l) ?? this.isB)[w], l)];
  }

  // ------------------------------------------------------------------ witnesses

  private poll(w: number, l: number): void {
    const reachable = (!this.forked[l] || this.logOnline(this.now)) && !(this.logCuts.length > 0 && this.logCut(w));
    if (!this.down[w] && reachable) {
      const own = this.role[w] === HONEST || this.role[w] === DROPPER ? this.ownItem[w * this.L + l] : -1;
      for (const b of this.branchesShown(w, l)) {
        const item = this.logs[l].latest[b];
        if (item < 0) continue;
        const at = this.now + this.bLag(b, l) + this.latLog(w) + this.latLog(w);
        // A checkpoint no larger than the one the witness holds is a no-op on arrival: not queued
        // (the latency draws are made all the same, so that runs stay as they were).
        if (own >= 0 && this.items[own].size >= this.items[item].size) continue;
        if (this.role[w] === MONITOR && this.has(this.seen, w, item)) continue;
        this.q.push(at, LEARN, w, item, 0);
      }
    }
    const next = (this.role[w] === MONITOR ? this.s.network.monitors.pollIntervalMs! : this.pollMs[w]) * (0.5 + this.rng.float());
    if (this.now + next < this.s.durationMs) this.q.push(this.now + next, POLL, w, l, 0);
  }

  /** The log hands witness w a checkpoint through the real witness core (add-checkpoint, old = its stored size, the log's proof). */
  private async learnReal(w: number, item: number): Promise<void> {
    if (this.down[w]) return;
    const it = this.items[item];
    const wit = this.role[w] === COLLUDER && it.branch === 1 ? this.colluderB[w]! : this.witnesses[w]!;
    const state = await wit.latest(this.logs[it.log].origin);
    const old = state?.size ?? 0n;
    if (BigInt(it.size) <= old) return;
    const tree = this.logs[it.log].trees[it.branch]!;
    const proof = old > 0n ? tree.consistencyProof(old, BigInt(it.size)) : [];
    const r = await wit.add({ oldSize: old, proof, note: utf8(it.note) });
    if (r.kind === 'cosigned' && r.advanced) {
      if (this.cosLines && this.followed[it.log]) this.cosLines.set(w * this.W * 32 + item, r.lines);
      this.cosign(w, item);
    }
  }

  /** The same rule, compactly (modelled signatures): advance only to a larger checkpoint consistent with the one held. */
  private learnCompact(w: number, item: number): void {
    if (this.down[w]) return;
    const it = this.items[item];
    if (this.role[w] === COLLUDER) {
      // A colluder keeps one chain per branch and cosigns both.
      const k = (w * this.L + it.log) * this.NB + it.branch;
      if (it.size <= (this.colluderSizes.get(k) ?? -1)) return;
      this.colluderSizes.set(k, it.size);
    } else {
      const own = this.ownItem[w * this.L + it.log];
      if (own >= 0) {
        const o = this.items[own];
        if (it.size <= o.size || !this.consistent(own, item)) return;
      }
    }
    this.cosign(w, item);
  }

  private readonly colluderSizes = new Map<number, number>();

  /** Witness w cosigned item: record it and publish on gossip. */
  private cosign(w: number, item: number): void {
    const it = this.items[item];
    const slot = w * this.L + it.log;
    const own = this.ownItem[slot];
    const colluder = this.role[w] === COLLUDER;
    this.set(this.cosigned, w, item);
    if (own < 0 || it.size > this.items[own].size) this.ownItem[slot] = item;
    const pf = this.pfSlot[it.log];
    if (pf >= 0 && this.logs[it.log].forkSize >= 0 && it.size > Math.min(this.logs[it.log].forkSize, this.logs[it.log].forkSizes[it.branch])) this.postFork[(pf * this.total + w) * this.NB + it.branch] = 1;
    // Colluders publish nothing about the forked log (they would only help detection), or per collusion.behaviour.
    if (colluder && this.forked[it.log] && !this.colluderRelays(item)) return;
    if (this.v2) {
      if (this.traceOn) this.trace(`t=${this.now} node ${w} cosigns ${item}`);
      this.receive(w, item, -1);
      const k = this.known(w, item);
      k[w >>> 5] |= 1 << (w & 31);
      this.exOffer(w, item, w);
    } else if (this.perWitness) {
      this.receive(w, item, -1, false);
      this.publishOwn(w, item);
    } else this.receive(w, item, -1);
  }

  // ------------------------------------------------------------------ gossip

  // Gossip ids: g >= 0 is an item (a coalesced checkpoint text, or evidence); g < 0 is the
  // per-witness checkpoint message -g-1 (network.messages: per-witness).

  private seenG(v: number, g: number): boolean {
    return g >= 0 ? this.has(this.seen, v, g) : this.seenMsg.has(v * MSG_SPACE + (-g - 1));
  }

  /** Does a colluder pass on this item of the forked log (collusion.behaviour)? */
  private colluderRelays(item: number, evidence = false): boolean {
    const c = this.s.adversary!.collusion;
    if (c.behaviour === 'silent') return false;
    if (c.behaviour === 'selective') return !evidence && this.items[item].branch === 0;
    return this.xr.float() < c.leakRate;
  }

  private logOfG(g: number): number {
    return this.items[g >= 0 ? g : this.msgText[-g - 1]].log;
  }

  private send(u: number, v: number, g: number, extraDelay: number): void {
    this.messages++;
    this.bytes += g >= 0 ? this.items[g].bytes : this.msgBytes[-g - 1];
    if (this.s.network.loss > 0 && this.rng.float() < this.s.network.loss) return;
    if (this.cutting && this.cut(u, v, this.now)) return;
    if (this.seenG(v, g)) return; // a duplicate: dropped by v's seen cache on arrival
    this.q.push(this.now + extraDelay + this.lat2(u, v), DELIVER, v, g, u);
  }

  private deliver(v: number, g: number, from: number): void {
    if (this.sc === null || from < 0) {
      if (g >= 0) this.receive(v, g, from, true);
      else this.receiveMsg(v, -g - 1, from);
      return;
    }
    // Scoring: a graylisted peer's messages are dropped unprocessed; first deliveries count (P2, P3).
    if (this.isGraylisted(v, from)) return;
    const fresh = !this.seenG(v, g);
    if (g >= 0) this.receive(v, g, from, true);
    else this.receiveMsg(v, -g - 1, from);
    if (fresh && this.seenG(v, g)) {
      const st = this.scoreState(v, from);
      st[0] = Math.min(this.sc.firstDeliveryCap, st[0] + 1);
      if (st[3] >= 0) st[1] += 1;
    }
  }

  // ------------------------------------------------------------------ peer scoring (gossipsub v1.1)

  private scoreState(v: number, u: number): Float64Array {
    const k = v * this.total + u;
    let st = this.score.get(k);
    if (!st) this.score.set(k, (st = Float64Array.of(0, 0, 0, this.inMesh(v, u) ? this.now : -1)));
    return st;
  }

  private isGraylisted(v: number, u: number): boolean {
    const until = this.graylisted.get(v * this.total + u);
    return until !== undefined && this.now < until;
  }

  /** The score v gives u (docs/gossip.md#peer-scoring): min(cap, P1 + P2) + P3 + P4. */
  private scoreOf(v: number, u: number): number {
    const sc = this.sc!;
    const st = this.score.get(v * this.total + u);
    if (!st) return 0;
    const inMeshS = st[3] >= 0 ? (this.now - st[3]) / 1000 : 0;
    const topic = Math.min(sc.topicCap, Math.min(1, sc.timeInMeshWeight * inMeshS) + sc.firstDeliveryWeight * st[0]);
    let p3 = 0;
    if (sc.meshDeliveryWeight < 0 && st[3] >= 0 && this.now - st[3] >= sc.activationMs) {
      const deficit = Math.max(0, sc.meshDeliveryThreshold - st[1]);
      p3 = sc.meshDeliveryWeight * deficit * deficit;
    }
    return topic + p3 + sc.invalidWeight * st[2] * st[2];
  }

  /** Heartbeat scoring: decay the counters, invalid messages from their senders, prune below 0, graylist below the threshold. */
  private scoreHeartbeat(): void {
    const sc = this.sc!;
    const secs = this.s.network.heartbeatMs / 1000;
    const d2 = sc.firstDeliveryDecay ** secs;
    const d3 = sc.meshDeliveryDecay ** secs;
    const d4 = sc.invalidDecay ** secs;
    for (const st of this.score.values()) {
      st[0] *= d2;
      st[1] *= d3;
      st[2] *= d4;
    }
    for (let u = 0; u < this.G; u++) {
      const b = this.behaviour[u];
      const rate = b >= 0 ? (this.classes[b].invalidRate ?? 0) : 0;
      if (rate <= 0 || this.down[u]) continue;
      const deg = this.peerCount(u);
      for (let i = 0; i < deg; i++) {
        const v = this.peerAt(u, i);
        if (this.role[v] === ATTACKER || this.down[v]) continue;
        let n = Math.floor(rate * secs);
        if (this.xr.float() < rate * secs - n) n++;
        if (n === 0) continue;
        this.messages += n;
        this.bytes += n * 200;
        if (this.isGraylisted(v, u)) continue;
        this.scoreState(v, u)[2] += n;
      }
    }
    const keys = [...this.score.keys()].sort((x, y) => x - y);
    for (const k of keys) {
      const v = Math.floor(k / this.total);
      const u = k - v * this.total;
      const x = this.scoreOf(v, u);
      if (x < sc.graylist && !this.isGraylisted(v, u)) {
        this.graylisted.set(k, this.now + sc.graylistForMs);
        if (this.traceOn) this.trace(`t=${this.now} node ${v} graylists ${u} (score ${x.toFixed(2)})`);
      }
      if (x < 0 && this.inMesh(v, u)) {
        this.meshRemove(v, u);
        this.meshRemove(u, v);
        this.dirty.add(v);
        this.dirty.add(u);
        if (this.traceOn) this.trace(`t=${this.now} node ${v} prunes ${u} (score ${x.toFixed(2)})`);
      }
      const st = this.score.get(k)!;
      if (st[3] < 0 && st[0] < 1e-3 && st[1] < 1e-3 && st[2] < 1e-3) this.score.delete(k);
    }
  }

  /** Eager push to the mesh (but not back to the sender) and into the message cache for IHAVE gossip. */
  private forward(v: number, g: number, from: number): void {
    // Colluders suppress everything about the forked log; droppers drop or delay.
    const role = this.role[v];
    if (role === COLLUDER && this.forked[this.logOfG(g)] && !this.colluderRelays(g >= 0 ? g : this.msgText[-g - 1], g >= 0 && this.items[g].kind === 1)) return;
    let delay = 0;
    if (role === DROPPER) {
      const d = this.classes[this.behaviour[v]];
      const isEvidence = g >= 0 && this.items[g].kind === 1;
      if (d.drop === 'all' || (d.drop !== 'none' && (d.drop === 'evidence') === isEvidence)) {
        if (this.rng.float() < d.dropRate) return;
        delay = d.delayMs;
      }
    }
    const base = v * this.s.network.meshHigh;
    for (let i = 0; i < this.meshCnt[v]; i++) {
      const p = this.mesh[base + i];
      if (p !== from) this.send(v, p, g, delay);
    }
    let mc = this.mcache.get(v);
    if (!mc) this.mcache.set(v, (mc = []));
    mc.push(g, this.now);
  }

  /** Witness w publishes its checkpoint message: the text, its own cosignature and every tracked one it knows (service.publishEntry). */
  private publishOwn(w: number, item: number): void {
    const known = this.known(w, item);
    known[w >>> 5] |= 1 << (w & 31);
    const m = this.msgText.length;
    if (m >= MSG_SPACE) throw new Error('simulator message table full');
    const snap = known.slice();
    let cos = 0;
    let pq = 0;
    for (let i = 0; i < snap.length; i++) {
      cos += popcount(snap[i]);
      if (this.mldsaMask) pq += popcount(snap[i] & this.mldsaMask[i]);
    }
    this.msgText.push(item);
    this.msgSnap.push(snap);
    this.msgBytes.push(this.items[item].bytes - COSIG_LINE_BYTES + cos * COSIG_LINE_BYTES + pq * (MLDSA_LINE_BYTES - COSIG_LINE_BYTES));
    this.seenMsg.add(w * MSG_SPACE + m);
    this.forward(w, -m - 1, -1);
  }

  /** The cosignatures node v knows on a text (bitset over witnesses). */
  private known(v: number, item: number): Uint32Array {
    const k = v * this.W * 32 + item;
    let b = this.knownCos.get(k);
    if (!b) this.knownCos.set(k, (b = new Uint32Array(this.NW)));
    return b;
  }

  /**
   * A per-witness checkpoint message reaches v: the text goes to its view; tracked cosignatures
   * merge. Verdict as validateCheckpoint: no tracked cosignature, or lines by keys v does not
   * track: ignore (not forwarded); otherwise accept (forward) only if it brought news.
   */
  private receiveMsg(v: number, m: number, from: number): void {
    const key = v * MSG_SPACE + m;
    if (this.seenMsg.has(key)) return;
    this.seenMsg.add(key);
    if (this.role[v] === ATTACKER) return;
    const item = this.msgText[m];
    const newText = !this.has(this.seen, v, item);
    this.receive(v, item, from, false);
    const snap = this.msgSnap[m];
    const known = this.known(v, item);
    const tracked = this.tracked ? this.tracked.subarray(v * this.NW, v * this.NW + this.NW) : null;
    let anyTracked = false;
    let unknown = false;
    let news = false;
    for (let i = 0; i < this.NW; i++) {
      const t = tracked ? tracked[i] : 0xffffffff;
      const mine = snap[i] & t;
      if (mine !== 0) anyTracked = true;
      if ((snap[i] & ~t) !== 0) unknown = true;
      if ((mine & ~known[i]) !== 0) news = true;
      known[i] |= mine;
    }
    if (!anyTracked || unknown || !(news || newText)) return;
    this.forward(v, -m - 1, from);
  }

  /** A node gets an item (from a peer, or from itself: own cosignature, detected evidence); forward: coalesced gossip. */
  private receive(v: number, item: number, from: number, forward = true): void {
    if (this.has(this.seen, v, item)) return;
    const it = this.items[item];
    const role = this.role[v];
    if (role === ATTACKER) {
      this.set(this.seen, v, item);
      this.seenCount[item]++;
      return;
    }
    // Validation before forwarding: the log signature of a checkpoint, the evidence itself.
    if (it.kind === 0) {
      if (this.s.signatures === 'real') openNote(it.note, this.logs[it.log].verifiers);
      else if (!it.opened) it.opened = openNote(it.note, this.logs[it.log].verifiers);
    } else if (!this.verifyEvidenceAt(it)) return; // invalid: not stored, not forwarded
    this.set(this.seen, v, item);
    this.seenCount[item]++;
    if (it.firstAt < 0) it.firstAt = this.now;
    if (role === HONEST) {
      it.reachedHonest++;
      it.lastHonestAt = this.now;
    }
    if (this.traceOn && this.v2 && it.kind === 0) this.trace(`t=${this.now} node ${v} takes checkpoint ${item}`);
    if (it.kind === 1) {
      if (role !== COLLUDER) {
        let d = this.detectedByLog.get(it.log);
        if (!d) this.detectedByLog.set(it.log, (d = new Float64Array(this.G).fill(-1)));
        if (v < this.G && d[v] < 0) d[v] = this.now;
      }
      if (this.detectedAt[v] < 0 && role !== COLLUDER) {
        this.detectedAt[v] = this.now;
        if (this.traceOn) this.trace(`t=${this.now} node ${v} holds evidence${from >= 0 ? ` (from ${from})` : ''}`);
      }
    } else if (role !== COLLUDER) {
      this.detect(v, item);
      this.maybeAdvance(v, item);
    }
    if (forward) {
      if (this.v2 && it.kind === 0) this.exOffer(v, item, -1, from);
      else this.forward(v, item, from);
    }
  }

  private verifyEvidenceAt(it: Item): boolean {
    // real: every node verifies; memoised/modelled: the verdict of the first verification is reused.
    if (this.s.signatures !== 'real' && it.verified !== undefined) return it.verified;
    const v = verifyEvidence(utf8(it.note), (o) => this.logs.find((l) => l.origin === o)?.verifiers);
    it.verified = v.ok;
    return v.ok;
  }

  /** The view's rules: same size and another root is evidence at once; another size needs a proof from the log. */
  private detect(v: number, item: number): void {
    const it = this.items[item];
    const log = this.logs[it.log];
    if (log.forkSize < 0 || it.size <= log.forkSize) return;
    const same = log.bySize.get(it.size);
    if (same) {
      for (let b = 0; b < same.length; b++) {
        const other = same[b];
        if (other >= 0 && other !== item && this.has(this.seen, v, other) && !this.consistent(item, other)) {
          this.evidence(v, item, other);
          return;
        }
      }
    }
    const own = this.ownItem[v * this.L + it.log];
    if (own < 0 || own === item) return;
    const o = this.items[own];
    if (o.size === it.size || this.consistent(own, item)) return;
    // The log may refuse the proof that would expose it (adversary.refuseProofs): no evidence then.
    if (this.forked[it.log] && this.s.adversary!.refuseProofs) return;
    const delay = it.size > o.size ? CHECK_DELAY_MS : 0;
    this.q.push(this.now + delay + this.latLog(v) + this.latLog(v), CHECK, v, item, own);
  }

  /** A poller that sees a checkpoint ahead of its witness fetches a proof from the log and adds it (service.maybeAdvance). */
  private maybeAdvance(v: number, item: number): void {
    if (this.pushed[v] || (this.role[v] !== HONEST && this.role[v] !== DROPPER)) return;
    const it = this.items[item];
    const own = this.ownItem[v * this.L + it.log];
    if (own === item || (own >= 0 && this.items[own].size >= it.size)) return;
    // The log serves this witness its own branch only: a proof to the other branch never verifies.
    if (!this.branchesShown(v, it.log).includes(it.branch)) return;
    if (this.forked[it.log] && !this.logOnline(this.now)) return;
    this.q.push(this.now + this.latLog(v) + this.latLog(v), LEARN, v, item, 0);
  }

  /** Node v holds checkpoints x and y that the log signed on different branches: make (real) evidence and gossip it. */
  private evidence(v: number, x: number, y: number): void {
    const key = x < y ? `${x}:${y}` : `${y}:${x}`;
    let id = this.evidenceByPair.get(key);
    if (id === undefined) {
      const a = this.items[x];
      const b = this.items[y];
      const log = this.logs[a.log];
      const open = (i: Item) => (i.opened ??= openNote(i.note, log.verifiers));
      const [small, large] = a.size <= b.size ? [a, b] : [b, a];
      const consistency =
        small.size === large.size
          ? undefined
          : { h: log.trees[large.branch]!.root(BigInt(small.size)), proof: log.trees[large.branch]!.consistencyProof(BigInt(small.size), BigInt(large.size)) };
      const ev = makeEvidence({ note: open(small), checkpoint: parseCheckpoint(open(small).text) }, { note: open(large), checkpoint: parseCheckpoint(open(large).text) }, consistency);
      const enc = encodeEvidence(ev);
      const json = new TextDecoder().decode(enc);
      id = this.addItem({ kind: 1, log: a.log, branch: -1, size: 0, note: json, bytes: enc.length, firstAt: -1, reachedHonest: 0, lastHonestAt: -1 });
      this.evidenceByPair.set(key, id);
      if (this.firstEvidence < 0) this.firstEvidence = id;
      if (!this.firstEvByLog.has(a.log)) this.firstEvByLog.set(a.log, id);
    }
    this.receive(v, id, -1);
  }

  private heartbeat(): void {
    const r = this.rng;
    if (this.sc) this.scoreHeartbeat();
    for (const u of [...this.dirty].sort((x, y) => x - y)) this.graft(u, r);
    this.dirty.clear();
    const horizon = this.now - GOSSIP_WINDOWS * this.s.network.heartbeatMs;
    const { gossipFactor, gossipLazy } = this.s.network;
    for (const [u, mc] of this.mcache) {
      let k = 0;
      while (k < mc.length && mc[k + 1] < horizon) k += 2;
      if (k > 0) mc.splice(0, k);
      if (mc.length === 0) {
        this.mcache.delete(u);
        continue;
      }
      if (this.down[u] || this.role[u] === ATTACKER) continue;
      // IHAVE to Dlazy (or gossipFactor of the) non-mesh peers.
      const deg = this.peerCount(u);
      const nonMesh = deg - this.meshCnt[u];
      // Every node holds every item gossiped here: the IHAVEs are sent (and counted, and drawn
      // for loss as before) but none can be answered, so the per-item checks are skipped.
      let complete = this.role[u] !== COLLUDER;
      for (let i = 0; complete && i < mc.length; i += 2) complete = mc[i] >= 0 && this.seenCount[mc[i]] === this.total;
      const ids = mc.length >> 1;
      const want = Math.min(nonMesh, Math.max(gossipLazy, Math.round(gossipFactor * nonMesh)));
      if (complete && this.sc === null) {
        // Nobody can answer these IHAVEs: count them (want of them, as the sampling below sends
        // unless it runs out of tries) without drawing their peers and losses.
        this.messages += want;
        this.bytes += want * (CONTROL_OVERHEAD + MSG_ID_BYTES * ids);
        continue;
      }
      for (let sent = 0, tries = 0; sent < want && tries < 4 * want + 8; tries++) {
        const v = this.peerAt(u, r.int(deg));
        if (this.inMesh(u, v)) continue;
        if (this.sc && (this.isGraylisted(u, v) || this.isGraylisted(v, u))) continue;
        sent++;
        this.messages++;
        this.bytes += CONTROL_OVERHEAD + MSG_ID_BYTES * ids;
        if (this.s.network.loss > 0 && r.float() < this.s.network.loss) continue;
        if (this.cutting && this.cut(u, v, this.now)) continue;
        if (complete) continue;
        for (let j = 0; j < mc.length; j += 2) {
          const g = mc[j];
          if (this.role[u] === COLLUDER && this.forked[this.logOfG(g)] && !this.colluderRelays(g >= 0 ? g : this.msgText[-g - 1], g >= 0 && this.items[g].kind === 1)) continue;
          if (!this.seenG(v, g)) this.q.push(this.now + this.lat2(u, v), IHAVE, v, g, u);
        }
      }
    }
    if (this.now + this.s.network.heartbeatMs < this.s.durationMs) this.q.push(this.now + this.s.network.heartbeatMs, HEARTBEAT, 0, 0, 0);
  }

  // ------------------------------------------------------------------ gossip version 2: the exchange

  // Modelled on src/gossip/exchange.ts: a node writes to each peer at most once per tick (its own
  // phase, network.exchangeTick apart); verified items go to eager peers (CHECKPOINT frames, COSIGS
  // frames coalesced per text), the other peers get HAVE digests (at most every HAVE_INTERVAL_MS)
  // and WANT what they lack WANT_DELAY_MS after the first announcement (another announcer after
  // WANT_RETRY_MS, at most WANT_TRIES times). ML-DSA-44 lines are announced, never pushed.
  // Frame sizes are those of the exchange's own encoders. Evidence is flooded by gossipsub as in
  // version 1 (forward, IHAVE).

  private exKey(item: number, w: number): number {
    return item * (this.total + 1) + (w + 1);
  }

  private exSet<T>(m: Map<number, T>, k: number, make: () => T): T {
    let x = m.get(k);
    if (x === undefined) m.set(k, (x = make()));
    return x;
  }

  private tracks(v: number, w: number): boolean {
    return !this.tracked || (this.tracked[v * this.NW + (w >>> 5)] & (1 << (w & 31))) !== 0;
  }

  private holds(v: number, item: number, w: number): boolean {
    if (w < 0) return this.has(this.seen, v, item);
    const b = this.knownCos.get(v * this.W * 32 + item);
    return b !== undefined && (b[w >>> 5] & (1 << (w & 31))) !== 0;
  }

  private pq(w: number): boolean {
    return w >= 0 && this.mldsa[w] === 1 && TIMESTAMPED_MLDSA44_SIZE > MAX_PUSHED_SIG_BYTES;
  }

  /**
   * Node v holds a verified item (a text: w = -1, or w's cosignature on it): queue it for its peers
   * (Exchange.offer and the tick's scan). `from`: the peer it came from (-1: its own, the log's).
   * An item from a peer v does not push to (a WANT answer) is held back from the eager peers for
   * LAZY_HOLD_MS (they often get it over the eager overlay meanwhile); the other peers get a HAVE.
   */
  private exOffer(v: number, item: number, w: number, from = -1): void {
    const role = this.role[v];
    if (role === ATTACKER) return;
    // Colluders and droppers as in forward(): suppress what they would not relay.
    if (role === COLLUDER && this.forked[this.items[item].log] && !this.colluderRelays(item)) return;
    if (role === DROPPER) {
      const d = this.classes[this.behaviour[v]];
      if ((d.drop === 'all' || d.drop === 'checkpoints') && this.rng.float() < d.dropRate) return;
    }
    const lazy = from >= 0 && !this.eager[v].has(from);
    if (lazy) {
      this.exWinLazy[v]++;
      const by = this.exSet(this.exLazyBy, v, () => new Map<number, number>());
      by.set(from, (by.get(from) ?? 0) + 1);
      this.exLastLazy[v] = this.now;
    } else if (from >= 0) this.exWinEager[v]++;
    const key = this.exKey(item, w);
    const deg = this.peerCount(v);
    let any = false;
    let hold = false;
    for (let i = 0; i < deg; i++) {
      const p = this.peerAt(v, i);
      if (w >= 0 && !this.tracks(p, w)) continue; // the peer's HELLO does not list the key
      const e = v * this.total + p;
      const known = this.exSet(this.exKnown, e, () => new Set<number>());
      if (known.has(key)) continue;
      if (this.eager[v].has(p) && !this.pq(w)) {
        if (lazy) {
          hold = true; // queued at the hold's end (exReleaseHolds)
          continue;
        }
        this.exSet(this.exOut, e, () => []).push(item, w); // sent at the tick unless p is known to hold it by then
      } else this.exSet(this.exDirty, e, () => new Set<number>()).add(item);
      any = true;
    }
    if (hold) {
      const until = this.now + LAZY_HOLD_MS;
      this.exSet(this.exHold, v, () => []).push(until, item, w);
      this.exSchedule(v, until - 1e-9);
    }
    if (any) this.exSchedule(v);
  }

  /** Held items whose LAZY_HOLD_MS is over go to the eager peers not known to hold them (Exchange.tick: holdUntil <= now). */
  private exReleaseHolds(v: number): void {
    const h = this.exHold.get(v);
    if (!h) return;
    const keep: number[] = [];
    for (let j = 0; j < h.length; j += 3) {
      const [until, item, w] = [h[j], h[j + 1], h[j + 2]];
      if (until > this.now + 1e-9) {
        keep.push(until, item, w);
        continue;
      }
      const key = this.exKey(item, w);
      for (const p of this.eager[v]) {
        if (w >= 0 && !this.tracks(p, w)) continue;
        const e = v * this.total + p;
        const known = this.exSet(this.exKnown, e, () => new Set<number>());
        if (known.has(key)) continue; // p sent it meanwhile (or, for a text, sent COSIGS on it)
        this.exSet(this.exOut, e, () => []).push(item, w);
      }
    }
    if (keep.length > 0) {
      this.exHold.set(v, keep);
      let next = Infinity;
      for (let j = 0; j < keep.length; j += 3) next = Math.min(next, keep[j]);
      this.exSchedule(v, next - 1e-9);
    } else this.exHold.delete(v);
  }

  /** Exchange.graftCheck: graft the lazy peer that supplied most first copies when the eager overlay does not reach v; prune grafts that carry mostly duplicates. */
  private exGraftCheck(v: number): void {
    const total = this.exWinEager[v] + this.exWinLazy[v];
    const by = this.exLazyBy.get(v);
    // The model's nodes never lag (no event loop is modelled), so trailing copies never block a graft.
    const late = reachedLate(this.exWinTrailing[v], this.exWinLazy[v], false);
    if (!late && this.exGrafted[v].size < GRAFT_MAX && total >= GRAFT_MIN_ITEMS && this.exWinLazy[v] >= GRAFT_LAZY_SHARE * total && this.now - this.exLastLazy[v] <= GRAFT_RECENT_MS && by) {
      let best = -1;
      let most = 0;
      for (const [p, n] of by) {
        if (n > most && !this.eager[v].has(p) && !this.down[p]) {
          best = p;
          most = n;
        }
      }
      if (best >= 0) {
        this.exGrafted[v].add(best);
        this.eager[v].add(best);
        this.eager[best].add(v); // EAGER 1: the peer pushes back
        const lw = this.exLinkWin.get(v)?.get(best);
        if (lw) lw[2] = 0;
        this.exGrafts++;
      }
    }
    for (const p of [...this.exGrafted[v]]) {
      const lw = this.exSet(this.exSet(this.exLinkWin, v, () => new Map<number, [number, number, number]>()), p, () => [0, 0, 0] as [number, number, number]);
      if (lw[0] >= GRAFT_MIN_ITEMS && lw[1] >= PRUNE_DUP_SHARE * lw[0]) lw[2]++;
      else lw[2] = 0;
      if (lw[2] >= 2) {
        this.exGrafted[v].delete(p);
        lw[2] = 0;
        this.exPrunes++;
        // The edge stays eager while either end chose or grafted the other.
        if (!this.exChosen[v].has(p) && !this.exChosen[p].has(v) && !this.exGrafted[p].has(v)) {
          this.eager[v].delete(p);
          this.eager[p].delete(v);
        }
      }
    }
    // A new window: counts start again; a link with no strike is forgotten (bounded by the peers).
    const links = this.exLinkWin.get(v);
    if (links) {
      for (const [p, lw] of links) {
        if (lw[2] === 0) links.delete(p);
        else lw[0] = lw[1] = 0;
      }
    }
    this.exWinEager[v] = 0;
    this.exWinLazy[v] = 0;
    this.exWinTrailing[v] = 0;
    this.exLazyBy.delete(v);
    this.exGraftNext[v] = this.now + GRAFT_CHECK_MS;
  }

  private exSchedule(v: number, at = this.now): void {
    const T = this.s.network.exchangeTickMs;
    const ph = this.tickPhase[v];
    const t = ph + T * (Math.floor((at - ph) / T) + 1);
    if (this.tickAt[v] >= 0 && this.tickAt[v] <= t) return;
    this.tickAt[v] = t;
    this.q.push(t, EXTICK, v, 0, 0);
  }

  private cosigsFrameBytes(ws: readonly number[]): number {
    const sig = new Uint8Array(COSIG_V1_SIG_BYTES);
    return encodeCosigs(new Uint8Array(REF_BYTES), ws.map((w) => ({ index: w, sig }))).length;
  }

  private textFrameBytes(item: number): number {
    let b = this.noteFrameBytes.get(item);
    if (b === undefined) this.noteFrameBytes.set(item, (b = encodeFrame(FRAME.checkpoint, utf8(this.items[item].note)).length));
    return b;
  }

  private bitmap(ws: Iterable<number>): Uint8Array {
    let max = -1;
    for (const w of ws) max = Math.max(max, w);
    const b = new Uint8Array((max + 8) >> 3);
    for (const w of ws) b[w >> 3] |= 1 << (w & 7);
    return b;
  }

  /** Items ([item, w, ...]) as CHECKPOINT frames and COSIGS frames per text, into payload: their bytes and frames. */
  private exItemFrames(out: readonly number[], payload: number[]): { bytes: number; frames: number } {
    let bytes = 0;
    let frames = 0;
    const cos = new Map<number, number[]>();
    for (let j = 0; j < out.length; j += 2) {
      const [item, w] = [out[j], out[j + 1]];
      payload.push(0, item, w);
      if (w < 0) {
        const b = this.textFrameBytes(item);
        bytes += b;
        this.exBytes.checkpointBytes += b;
        frames++;
      } else this.exSet(cos, item, () => []).push(w);
    }
    for (const ws of cos.values()) {
      const b = this.cosigsFrameBytes(ws);
      bytes += b;
      this.exBytes.cosigsBytes += b;
      frames++;
    }
    return { bytes, frames };
  }

  /** One write from v to p: counted, then lost or delivered one latency later. */
  private exPost(v: number, p: number, payload: number[], bytes: number, frames: number, what: string): void {
    this.messages += frames;
    this.bytes += bytes;
    const id = this.exWriteId++;
    if (this.traceOn) this.trace(`t=${this.now} ex ${v}>${p} ${what} #${id} ${exTraceItems(payload)}`);
    const lost = this.s.network.loss > 0 && this.rng.float() < this.s.network.loss;
    const rto = this.s.network.retransmitMs;
    if (lost && rto === null) return;
    if (this.cutting && this.cut(v, p, this.now)) return;
    this.exWrites.set(id, payload);
    let at = this.now + this.lat2(v, p) + (lost ? rto! : 0);
    if (rto !== null) {
      // One TCP stream per link: nothing overtakes a write that waits for its retransmission.
      const link = v * this.total + p;
      at = Math.max(at, this.exLinkFree.get(link) ?? 0);
      this.exLinkFree.set(link, at);
    }
    this.q.push(at, EXFRAME, p, id, v);
  }

  /** Node v's eager peers (for tests and traces). */
  eagerOf(v: number): number[] {
    return [...(this.eager[v] ?? [])].sort((a, b) => a - b);
  }

  /** Exchange.decayWantDelay: the excess of v's WANT wait over WANT_DELAY_MS decays by 10 % per second. */
  private exDecayWantDelay(v: number): void {
    this.exWantDelay[v] = WANT_DELAY_MS + (this.exWantDelay[v] - WANT_DELAY_MS) * Math.pow(0.9, Math.max(0, this.now - this.exWantDelayAt[v]) / 1000);
    this.exWantDelayAt[v] = this.now;
  }

  /** Node v's tick: one write per peer with its pushes, a HAVE when due, and its WANTs. */
  private exTick(v: number): void {
    if (this.tickAt[v] !== this.now) return; // superseded by an earlier tick
    this.tickAt[v] = -1;
    this.exDecayWantDelay(v);
    if (this.grafting && this.now >= this.exGraftNext[v]) this.exGraftCheck(v);
    const down = this.down[v] === 1;
    this.exReleaseHolds(v);
    const wants = down ? new Map<number, Digest[]>() : this.exWants(v);
    let again = false;
    const deg = this.peerCount(v);
    for (let i = 0; i < deg; i++) {
      const p = this.peerAt(v, i);
      const e = v * this.total + p;
      const out = this.exOut.get(e);
      const dirty = this.exDirty.get(e);
      const want = wants.get(p);
      if (!out && !(dirty && dirty.size > 0) && !want) continue;
      if (down) {
        this.exOut.delete(e);
        continue;
      }
      const payload: number[] = [];
      let bytes = 0;
      let frames = 0;
      if (out) {
        // As the tick's scan: what p became known to hold since the item was queued is not sent.
        this.exOut.delete(e);
        const known = this.exSet(this.exKnown, e, () => new Set<number>());
        const send: number[] = [];
        for (let j = 0; j < out.length; j += 2) {
          const key = this.exKey(out[j], out[j + 1]);
          if (known.has(key)) continue;
          known.add(key);
          send.push(out[j], out[j + 1]);
        }
        ({ bytes, frames } = this.exItemFrames(send, payload));
      }
      if (dirty && dirty.size > 0) {
        const last = this.exLastHave.get(e) ?? -Infinity;
        if (this.now - last >= HAVE_INTERVAL_MS) {
          const known = this.exSet(this.exKnown, e, () => new Set<number>());
          const digests: Digest[] = [];
          for (const item of dirty) {
            const text = this.holds(v, item, -1);
            const eds: number[] = [];
            const pqs: number[] = [];
            let news = text && !known.has(this.exKey(item, -1));
            const b = this.knownCos.get(v * this.W * 32 + item);
            if (b)
              for (let x = 0; x < b.length; x++)
                for (let m = b[x]; m !== 0; m &= m - 1) {
                  const w = x * 32 + (31 - Math.clz32(m & -m));
                  if (!this.tracks(p, w)) continue;
                  (this.pq(w) ? pqs : eds).push(w);
                  const k = this.exKey(item, w);
                  if (!known.has(k)) {
                    news = true;
                    known.add(k);
                    payload.push(1, item, w);
                  }
                }
            if (!news) continue;
            if (text) {
              known.add(this.exKey(item, -1));
              payload.push(1, item, -1);
            }
            digests.push({ ref: new Uint8Array(REF_BYTES), text, bits: this.bitmap(eds), pq: this.bitmap(pqs) });
          }
          dirty.clear();
          this.exLastHave.set(e, this.now);
          if (digests.length > 0) {
            const b = encodeDigests(FRAME.have, digests).length;
            bytes += b;
            this.exBytes.haveBytes += b;
            frames++;
          }
        } else again = true;
      }
      if (want) {
        const b = encodeDigests(FRAME.want, want).length;
        bytes += b;
        this.exBytes.wantBytes += b;
        frames++;
        for (const d of want) {
          const item = (d as Digest & { item: number }).item;
          if (d.text) payload.push(2, item, -1);
          for (let x = 0; x < d.bits.length; x++) for (let bit = 0; bit < 8; bit++) if (d.bits[x] & (1 << bit)) payload.push(2, item, x * 8 + bit);
        }
      }
      if (frames === 0) continue;
      this.exPost(v, p, payload, bytes, frames, 'tick');
    }
    if (again || (this.exActive.get(v)?.size ?? 0) > 0) this.exSchedule(v);
  }

  /**
   * WANT entries per announcer for what v still lacks (Exchange.wants): each missing item announced
   * at least v's adaptive WANT wait ago and not asked for within WANT_RETRY_MS (at most WANT_TRIES
   * times), from the announcer that holds most of them (the one asked last loses ties).
   */
  private exWants(v: number): Map<number, Digest[]> {
    const out = new Map<number, Digest[]>();
    const old = this.exInactive.get(v);
    if (old) {
      let k = 0;
      for (; k < old.length && this.now - old[k] > ANNOUNCE_TTL_MS; k += 2) {
        const slot = v * this.W * 32 + old[k + 1];
        if (!this.exActive.get(v)?.has(old[k + 1])) this.exAnn.delete(slot);
      }
      if (k > 0) old.splice(0, k);
    }
    const active = this.exActive.get(v);
    if (!active) return out;
    for (const item of [...active].sort((x, y) => x - y)) {
      const slot = v * this.W * 32 + item;
      const a = this.exAnn.get(slot)!;
      const missing: number[] = [];
      const seen = new Set<number>();
      for (const ks of a.peers.values())
        for (const w of ks)
          if (!seen.has(w)) {
            seen.add(w);
            if (!this.holds(v, item, w)) missing.push(w);
          }
      if (missing.length === 0 || this.now - a.firstAt > ANNOUNCE_TTL_MS || missing.every((w) => (a.items.get(w)?.n ?? 0) >= WANT_TRIES)) {
        active.delete(item);
        if (this.now - a.firstAt > ANNOUNCE_TTL_MS) this.exAnn.delete(slot);
        else this.exSet(this.exInactive, v, () => []).push(a.firstAt, item); // kept (Exchange.deactivate keeps `announced`)
        continue;
      }
      const wait = this.exWantDelay[v];
      const due = missing.filter((w) => {
        const x = a.items.get(w);
        return x !== undefined && this.now - x.seen >= wait && x.n < WANT_TRIES && (x.n === 0 || this.now - x.at >= WANT_RETRY_MS);
      });
      if (due.length === 0) continue;
      let best = -1;
      let bestScore = -Infinity;
      for (const [p, ks] of a.peers) {
        const score = due.filter((w) => ks.has(w)).length - (p === a.last ? 0.5 : 0);
        if (score > bestScore) [best, bestScore] = [p, score];
      }
      if (best < 0 || bestScore <= 0) continue;
      const ks = a.peers.get(best)!;
      const asked = due.filter((w) => ks.has(w));
      for (const w of asked) {
        const x = a.items.get(w)!;
        x.at = this.now;
        x.n++;
      }
      a.last = best;
      const d = { ref: new Uint8Array(REF_BYTES), text: asked.includes(-1), bits: this.bitmap(asked.filter((w) => w >= 0)), pq: new Uint8Array(0), item };
      this.exSet(out, best, () => []).push(d);
    }
    return out;
  }

  /** A write from `from` reaches v: items are taken in (and offered on), HAVEs announce, WANTs are answered at once (Exchange.serveWant). */
  private exArrive(v: number, id: number, from: number): void {
    const payload = this.exWrites.get(id)!;
    this.exWrites.delete(id);
    if (this.traceOn) this.trace(`t=${this.now} ex-in #${id}`);
    if (this.down[v] || this.role[v] === ATTACKER) return;
    const known = this.exSet(this.exKnown, v * this.total + from, () => new Set<number>());
    const answer: number[] = [];
    for (let j = 0; j < payload.length; j += 3) {
      const [kind, item, w] = [payload[j], payload[j + 1], payload[j + 2]];
      const key = this.exKey(item, w);
      if (kind === 0) {
        known.add(key);
        const lw = this.exSet(this.exSet(this.exLinkWin, v, () => new Map<number, [number, number, number]>()), from, () => [0, 0, 0] as [number, number, number]);
        lw[0]++;
        if (this.holds(v, item, w)) lw[1]++;
        if (w < 0) this.receive(v, item, from, true);
        else {
          // A peer sends cosignatures only on a text it holds: never push it that text.
          if (this.holds(v, item, -1)) known.add(this.exKey(item, -1));
          if (!this.holds(v, item, w)) {
            const b = this.known(v, item);
            b[w >>> 5] |= 1 << (w & 31);
            this.exOffer(v, item, w, from);
          } else if ((this.exAnn.get(v * this.W * 32 + item)?.items.get(w)?.n ?? 0) > 0) {
            // A duplicate of an item v fetched with a WANT: the WANT beat the eager copy, wait longer.
            this.exWinTrailing[v]++;
            this.exDecayWantDelay(v);
            this.exWantDelay[v] = Math.min(WANT_DELAY_MAX_MS, this.exWantDelay[v] + WANT_DELAY_STEP_MS);
          }
        }
      } else if (kind === 1) {
        known.add(key);
        if (this.holds(v, item, w) || this.pq(w)) continue;
        const slot = v * this.W * 32 + item;
        const a = this.exSet(this.exAnn, slot, () => ({ firstAt: this.now, peers: new Map<number, Set<number>>(), items: new Map<number, { seen: number; at: number; n: number }>(), last: -1 }));
        const x = a.items.get(w);
        if (!x) a.items.set(w, { seen: this.now, at: 0, n: 0 });
        else if (!a.peers.has(from) && x.n >= WANT_TRIES) x.n = WANT_TRIES - 1; // a new announcer: one more try
        this.exSet(a.peers, from, () => new Set<number>()).add(w);
        this.exSet(this.exActive, v, () => new Set<number>()).add(item);
        // From the shortest wait on, v ticks every exchangeTick while something is active (as the node
        // ticks every EXCHANGE_TICK_MS), so a wait that decays meanwhile is met at the first tick.
        this.exSchedule(v, Math.max(this.now, a.items.get(w)!.seen + WANT_DELAY_MS - 1e-9));
      } else if (this.holds(v, item, w)) {
        // A WANT: answered with the item in one write, now (not at v's tick).
        known.add(key);
        this.exBytes.itemsAnsweringWant++;
        answer.push(item, w);
      }
    }
    if (answer.length > 0 && !this.down[v]) {
      const out: number[] = [];
      const { bytes, frames } = this.exItemFrames(answer, out);
      this.exPost(v, from, out, bytes, frames, 'answer');
    }
  }

  /** IHAVE arrives at v: IWANT back, and the message follows (two more one-way latencies). */
  private ihave(v: number, g: number, from: number): void {
    if (this.down[v] || this.seenG(v, g)) return;
    this.messages++;
    this.bytes += CONTROL_OVERHEAD + MSG_ID_BYTES;
    this.send(from, v, g, this.lat2(v, from));
  }

  // ------------------------------------------------------------------ clients

  /** Client c's policy for log l: the log, its n witnesses, a k-of-n group (c2sp.org/tlog-policy text). */
  private clientPolicy(c: number, l: number): Policy {
    const key = c * this.L + l;
    let p = this.policies.get(key);
    if (!p) {
      const k = this.cK[c];
      const ws = Array.from(this.clientW.subarray(this.cOff[c], this.cOff[c + 1]));
      const text = [`log ${this.logs[l].key.vkey}`, ...ws.map((w) => `witness w${w} ${this.cosVkeys[w]}`), `group g ${k} ${ws.map((w) => `w${w}`).join(' ')}`, 'quorum g', ''].join('\n');
      this.policies.set(key, (p = parsePolicy(text)));
    }
    return p;
  }

  /** Client c fetches the latest checkpoint it is shown of each log it follows (one schedule for all). */
  private fetch(c: number): void {
    const s = this.s;
    const pop = s.clients.populations[this.cPop[c]];
    for (let j = this.fOff[c]; j < this.fOff[c + 1]; j++) {
      const l = this.sLog[j];
      const log = this.logs[l];
      const b = this.forked[l] && log.forkSize >= 0 ? this.branchNow(this.sB[j], l) : 0;
      const item = log.latest[b];
      const online = !this.forked[l] || this.logOnline(this.now);
      if (item >= 0 && !this.sProt[j] && online) {
        if (pop.fetch.delayMs > 0) this.q.push(this.now + pop.fetch.delayMs, ANSWER, c, item, j);
        else this.answer(c, item, j);
      }
    }
    const next = pop.fetch.intervalMs * (0.5 + this.rng.float());
    if (this.now + next < s.durationMs) this.q.push(this.now + next, FETCH, c, 0, 0);
  }

  /** Client c asks m of its n witnesses (a fresh random choice each time) for cosignatures on item (follow slot j). */
  private answer(c: number, item: number, j: number): void {
    if (this.sProt[j]) return;
    const s = this.s;
    const pop = s.clients.populations[this.cPop[c]];
    const n = this.cN[c];
    const k = this.cK[c];
    const off = this.cOff[c];
    const ws = Array.from(this.clientW.subarray(off, off + n));
    const l = this.sLog[j];
    // A population that states its logs counts evidence against this log only; the one-log default
    // keeps the old rule (a witness holding evidence against any forked log), so old results stay.
    const perLog = this.popPerLog[this.cPop[c]] === 1;
    const detected = perLog ? this.detectedByLog.get(l) : this.detectedAt;
    const firstEv = perLog ? (this.firstEvByLog.get(l) ?? -1) : this.firstEvidence;
    let count = 0;
    let evidence = false;
    let lines = '';
    const m = pop.fetch.witnesses;
    // With fetch.latency each answer takes a round trip: the client accepts at the k-th cosigning
    // answer, and refuses if an answer with evidence came first (witness state as of the request).
    const timed = this.fetchLat[this.cPop[c]] !== null;
    const cosRtt: number[] = [];
    const evRtt: number[] = [];
    for (let i = 0; i < m; i++) {
      const jj = i + this.rng.int(n - i);
      [ws[i], ws[jj]] = [ws[jj], ws[i]];
      const w = ws[i];
      if (this.down[w]) continue;
      if (this.clientCuts.length > 0 && this.clientCut(w)) continue;
      const rtt = timed ? this.clientRtt(c, w) : 0;
      if (detected !== undefined && detected[w] >= 0 && this.role[w] !== COLLUDER) {
        evidence = true;
        evRtt.push(rtt);
      }
      if (this.has(this.cosigned, w, item)) {
        count++;
        cosRtt.push(rtt);
        if (this.cosLines) lines += this.cosLines.get(w * this.W * 32 + item) ?? '';
      }
    }
    let decideIn = 0;
    if (timed) {
      cosRtt.sort((x, y) => x - y);
      const kth = count >= k ? cosRtt[k - 1] : Infinity;
      evidence = evRtt.some((t) => t <= kth);
      decideIn = count >= k && !evidence ? kth : evidence ? Math.min(...evRtt) : 0;
    }
    let accepted = !evidence && count >= k;
    if (this.cosLines) {
      // Real signatures: the client's real policy check (src/policy) on the note with the
      // cosignatures it gathered, refusing on the evidence a witness handed it.
      const ev = evidence && firstEv >= 0 ? [utf8(this.items[firstEv].note)] : [];
      const verdict = verifyCosignedCheckpoint(this.items[item].note + lines, this.clientPolicy(c, l), { knownEvidence: ev });
      accepted = verdict.ok;
      if (verdict.code === 'known-evidence') evidence = true;
    }
    const it = this.items[item];
    const log = this.logs[it.log];
    if (evidence) {
      this.sProt[j] = 1;
      if (this.sDetectAt[j] < 0) this.sDetectAt[j] = this.now + decideIn;
      if (this.traceOn) this.trace(`t=${this.now} client ${c} refuses log ${it.log} on evidence`);
    } else if (accepted) {
      if (log.forkSize >= 0 && it.size > log.forkSize && this.sAcceptAt[j] < 0) {
        this.sAcceptAt[j] = this.now + decideIn;
        this.sAcceptLatency[j] = pop.fetch.delayMs + decideIn;
      }
      if (it.branch !== 0) {
        if (this.traceOn && !this.sForked[j]) this.trace(`t=${this.now} client ${c} accepts ${perLog ? `log ${l} ` : ''}branch ${String.fromCharCode(65 + it.branch)} size ${it.size} (${count} of ${m} asked cosigned)`);
        this.sForked[j] = 1;
        // A split view got through this client's policy: another branch of this log also has a quorum of its n witnesses.
        const pf = this.pfSlot[l] * this.total;
        for (let ob = 0; ob < this.NB && !this.sFalse[j]; ob++) {
          if (ob === it.branch) continue;
          let quorum = 0;
          for (let i = 0; i < n; i++) quorum += this.postFork[(pf + this.clientW[off + i]) * this.NB + ob];
          if (quorum >= k) this.sFalse[j] = 1;
        }
      }
    }
    // Reporting clients hand what they fetched (and the evidence they got) to the witnesses they asked.
    if (pop.report) {
      for (let i = 0; i < m; i++) {
        const w = ws[i];
        if (this.down[w] || (this.clientCuts.length > 0 && this.clientCut(w))) continue;
        const give = evidence && firstEv >= 0 ? firstEv : item;
        if (!this.has(this.seen, w, give)) this.q.push(this.now + this.lat(), DELIVER, w, give, -1);
      }
    }
  }

  // ------------------------------------------------------------------ the loop

  /** One event (every kind but the real witness core's LEARN, which run awaits). */
  private step(k: number, x: number, y: number, z: number): void {
    const s = this.s;
    const r = this.rng;
    switch (k) {
      case PUBLISH:
        this.publish(x);
        break;
      case POLL:
        this.poll(x, y);
        break;
      case LEARN:
        if (this.role[x] === MONITOR) {
          if (!this.down[x]) this.receive(x, y, -1);
        } else this.learnCompact(x, y);
        break;
      case DELIVER:
        if (!this.down[x]) this.deliver(x, y, z);
        break;
      case HEARTBEAT:
        this.heartbeat();
        break;
      case CHECK:
        if (!this.down[x] && (!this.forked[this.items[y].log] || this.logOnline(this.now))) this.evidence(x, y, z);
        break;
      case ANSWER:
        this.answer(x, y, z);
        break;
      case FETCH:
        this.fetch(x);
        break;
      case DOWN: {
        const w = x;
        this.down[w] = 1;
        this.markNeighbours(w);
        this.q.push(this.now + s.network.churn.downtimeMs, UP, w, 0, 0);
        break;
      }
      case UP: {
        const w = x;
        this.down[w] = 0;
        this.dirty.add(w);
        const t = this.now + (-Math.log(1 - r.float()) / s.network.churn.rate) * 3_600_000;
        if (t < s.durationMs) this.q.push(t, DOWN, w, 0, 0);
        break;
      }
      case IHAVE:
        this.ihave(x, y, z);
        break;
      case EXTICK:
        this.exTick(x);
        break;
      case EXFRAME:
        this.exArrive(x, y, z);
        break;
    }
  }

  async run(onProgress?: (fraction: number, simTimeMs: number) => void): Promise<EngineOutput> {
    const s = this.s;
    const r = this.rng;
    for (let l = 0; l < this.L; l++) this.q.push((s.logs.intervalMs * l) / this.L, PUBLISH, l, 0, 0);
    for (let w = 0; w < this.N; w++) {
      if (this.pushed[w] || this.role[w] === ATTACKER) continue;
      for (let l = 0; l < this.L; l++) this.q.push(r.float() * this.pollMs[w], POLL, w, l, 0);
    }
    this.q.push(s.network.heartbeatMs, HEARTBEAT, 0, 0, 0);
    for (let c = 0; c < this.C; c++) this.q.push(r.float() * s.clients.populations[this.cPop[c]].fetch.intervalMs, FETCH, c, 0, 0);
    if (s.network.monitors.pollIntervalMs !== null)
      for (let m = this.N; m < this.G; m++) for (let l = 0; l < this.L; l++) this.q.push(this.xr.float() * s.network.monitors.pollIntervalMs, POLL, m, l, 0);
    if (s.network.churn.rate > 0) {
      for (let w = 0; w < this.N; w++) {
        const t = (-Math.log(1 - r.float()) / s.network.churn.rate) * 3_600_000;
        if (t < s.durationMs) this.q.push(t, DOWN, w, 0, 0);
      }
    }
    const q = this.q;
    let nextReport = 0;
    const real = this.witnesses.length > 0;
    const end = s.durationMs;
    if (!real) {
      // Modelled signatures: a synchronous loop (no await on the hot path).
      while (q.pop()) {
        if (q.t >= end) break;
        this.now = q.t;
        this.events++;
        this.step(q.k, q.x, q.y, q.z);
        if (onProgress && this.events >= nextReport) {
          nextReport = this.events + 200_000;
          onProgress(this.now / end, this.now);
        }
      }
    } else {
      while (q.pop()) {
        if (q.t >= end) break;
        this.now = q.t;
        this.events++;
        if (q.k === LEARN && this.role[q.x] !== MONITOR) await this.learnReal(q.x, q.y);
        else this.step(q.k, q.x, q.y, q.z);
        if (onProgress && this.events >= nextReport) {
          nextReport = this.events + 200_000;
          onProgress(this.now / end, this.now);
        }
      }
    }
    onProgress?.(1, s.durationMs);
    return this.output();
  }

  private markNeighbours(w: number): void {
    const base = w * this.s.network.meshHigh;
    for (let i = 0; i < this.meshCnt[w]; i++) this.dirty.add(this.mesh[base + i]);
    this.dirty.add(w);
  }

  private output(): EngineOutput {
    const honest: number[] = [];
    for (let i = 0; i < this.N; i++) if (this.role[i] === HONEST) honest.push(i);
    let reached = 0;
    let items = 0;
    const propagation: number[] = [];
    for (const it of this.items) {
      items++;
      reached += it.reachedHonest;
      if (it.kind === 0 && it.reachedHonest === honest.length && it.firstAt >= 0) propagation.push(it.lastHonestAt - it.firstAt);
    }
    // Per client, over the logs it follows (one slot each in the one-log default): the highest
    // branch shown, the earliest accept (with its latency) and detection, false / forked on any log.
    const C = this.C;
    const branch = new Uint8Array(C);
    const acceptAt = new Float64Array(C).fill(-1);
    const acceptLatency = new Float64Array(C).fill(-1);
    const detectAt = new Float64Array(C).fill(-1);
    const falseAccept = new Uint8Array(C);
    const forkedAccept = new Uint8Array(C);
    let falseAccepts = 0;
    let forked = 0;
    for (let c = 0; c < C; c++) {
      for (let j = this.fOff[c]; j < this.fOff[c + 1]; j++) {
        branch[c] = Math.max(branch[c], this.sB[j]);
        if (this.sAcceptAt[j] >= 0 && (acceptAt[c] < 0 || this.sAcceptAt[j] < acceptAt[c])) {
          acceptAt[c] = this.sAcceptAt[j];
          acceptLatency[c] = this.sAcceptLatency[j];
        }
        if (this.sDetectAt[j] >= 0 && (detectAt[c] < 0 || this.sDetectAt[j] < detectAt[c])) detectAt[c] = this.sDetectAt[j];
        falseAccept[c] |= this.sFalse[j];
        forkedAccept[c] |= this.sForked[j];
      }
      falseAccepts += falseAccept[c];
      forked += forkedAccept[c];
    }
    const slotClient = new Int32Array(this.sLog.length);
    for (let c = 0; c < C; c++) slotClient.fill(c, this.fOff[c], this.fOff[c + 1]);
    let nColl = 0;
    let nDrop = 0;
    let nB = 0;
    for (let i = 0; i < this.N; i++) {
      if (this.role[i] === COLLUDER) nColl++;
      if (this.role[i] === DROPPER) nDrop++;
      if (this.isB[i]) nB++;
    }
    const ev = this.firstEvidence >= 0 ? this.items[this.firstEvidence] : undefined;
    return {
      honest,
      detectedAt: this.detectedAt,
      forkAtMs: this.s.adversary ? (this.forkTime >= 0 ? this.forkTime : null) : null,
      clientsTotal: this.C,
      falseAccepts,
      forkedAccepts: forked,
      messages: this.messages,
      bytes: this.bytes,
      deliveryRatio: items === 0 || honest.length === 0 ? 1 : reached / (items * honest.length),
      propagation,
      evidence: ev ? encodeBase64(utf8(ev.note)) : null,
      evidenceCount: this.evidenceByPair.size,
      logVkeys: this.logs.map((l) => l.key.vkey),
      signaturesVerified: this.verifies,
      events: this.events,
      exchange: this.v2 ? { ...this.exBytes } : null,
      roles: { honest: honest.length, colluding: nColl, droppers: nDrop, attackers: this.total - this.G, branchB: nB },
      perClient: {
        population: this.cPop,
        branch,
        colluders: Int32Array.from({ length: this.C }, (_, c) => {
          let x = 0;
          for (let i = this.cOff[c]; i < this.cOff[c + 1]; i++) x += this.role[this.clientW[i]] === COLLUDER ? 1 : 0;
          return x;
        }),
        acceptAt,
        acceptLatency,
        detectAt,
        falseAccept,
        forkedAccept,
      },
      perClientLog: this.popPerLog.includes(1)
        ? { client: slotClient, log: this.sLog, branch: this.sB, acceptAt: this.sAcceptAt, acceptLatency: this.sAcceptLatency, detectAt: this.sDetectAt, falseAccept: this.sFalse, forkedAccept: this.sForked }
        : null,
      monitorsDetectedAt: this.detectedAt.slice(this.N, this.G),
      forkedLogs: [...this.forked].flatMap((f, l) => (f ? [{ log: l, forkAtMs: this.forkTimes[l] >= 0 ? this.forkTimes[l] : null, detectedAt: this.detectedByLog.get(l) ?? new Float64Array(this.G).fill(-1) }] : [])),
      monitorBranch: this.isB.slice(this.N, this.G),
      nodeRole: this.role.slice(0, this.N),
      nodeBranch: this.isB.slice(0, this.N),
      trace: this.traceLines,
    };
  }
}

/** The Ed25519 verifier for a log key (its vkey parsed back, as a witness configured with it would). */
function openNoteVerifier(key: Ed25519SignerKey): Verifier {
  return parseVkey(key.vkey);
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * cosigner() from src/note/keys.ts with the private KeyObject built once: node's backend caches only
 * 64 private keys (a node has one), and rebuilding one costs ten signatures. Same bytes as cosigner().
 */
function cachedKeyCosigner(key: Ed25519SignerKey, clock: () => bigint): Signer {
  const inner = cosigner(key, clock);
  const pk = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, key.seed]), format: 'der', type: 'pkcs8' });
  return {
    name: inner.name,
    keyId: inner.keyId,
    type: inner.type,
    sign(text) {
      const t = clock();
      return concatBytes(u64be(t), new Uint8Array(cryptoSign(null, cosignatureMessage(t, text), pk)));
    },
  };
}
