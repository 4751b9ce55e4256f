// The distributor reads (issue 15), on the paths of transparency-dev/distributor's REST API
// (api/http.go), so its clients can read from any witness node:
//   GET /distributor/v0/logs                          log IDs (hex SHA-256 of "o:" + origin), JSON
//   GET /distributor/v0/witnesses                     tracked witnesses' cosignature vkeys, JSON
//   GET /distributor/v0/logs/{logid}/checkpoint.{N}   the largest checkpoint held with cosignatures
//                                                     by at least N witnesses (text/plain note; 404 if none)
//   GET /distributor/v0/logs/{logid}/checkpoint       (ours) the largest checkpoint held, with every
//                                                     cosignature the node holds on it
// By default a read carries the log's lines and the Ed25519 cosignatures (0x04) only; with ?pq=1
// (ours) it carries the ML-DSA-44 (0x06) lines too, fetched from peers first when they announced
// some this node lacks (version 2 gossip; at most PQ_FETCH_MS). N counts the witnesses whose lines
// the answer carries: a witness with an Ed25519 and an ML-DSA-44 key counts once (its keys are
// grouped as the status page groups them: one config name, or one key name).
// What a node holds: its own latest cosigned checkpoint (store) and, with gossip, every verified
// cosignature of a tracked witness on the checkpoints in its view. Notes carry the log's verified
// lines first, then cosignatures in label order, at most MAX_SIGNATURE_LINES lines.
import type { FastifyInstance } from 'fastify';
import { sha256 } from '../crypto/index.js';
import { keyLabel, MAX_SIGNATURE_LINES, openNote, formatSignatureLine, type SignatureLine, type VerifierSet } from '../note/note.js';
import { parseCheckpoint } from '../checkpoint/checkpoint.js';
import { toHex, utf8 } from '../util/bytes.js';
import type { WitnessStore } from '../witness/store.js';

export const DISTRIBUTOR_PREFIX = '/distributor/v0';

/** One checkpoint a node holds: its text, the log's verified lines, the cosignatures on it. */
export interface HeldCheckpoint {
  readonly size: bigint;
  readonly text: string;
  readonly logLines: readonly SignatureLine[];
  readonly cosignatures: readonly SignatureLine[];
  /** Fetches the ML-DSA-44 lines peers announced on this text (gossip version 2), within ms. */
  readonly fetchPq?: (ms: number) => Promise<void>;
}

/** The longest a ?pq=1 read waits for ML-DSA-44 lines from peers. */
export const PQ_FETCH_MS = 2000;

/** An ML-DSA-44 (0x06) line: its signature is 2,428 bytes; an Ed25519 cosignature/v1 one is 72. */
export const isPqLine = (s: SignatureLine): boolean => s.sig.length > 128;

/** The checkpoint without its ML-DSA-44 lines (a client's default read). */
export function withoutPq(c: HeldCheckpoint): HeldCheckpoint {
  return c.cosignatures.some(isPqLine) ? { ...c, cosignatures: c.cosignatures.filter((s) => !isPqLine(s)) } : c;
}

export interface DistributorSource {
  origins(): string[];
  witnesses(): string[];
  /** The witness a cosignature key (NAME+HEX8) belongs to; keys of one witness share it (default: the label). */
  witnessOf?(label: string): string;
  /** Every checkpoint held for the origin (any order). */
  held(origin: string): Promise<HeldCheckpoint[]>;
}

/** The distributor's log ID: hex SHA-256 of "o:" + origin. */
export function distributorLogId(origin: string): string {
  return toHex(sha256(utf8('o:' + origin)));
}

export function formatHeld(c: HeldCheckpoint): string {
  const label = (s: SignatureLine) => keyLabel(s.name, s.keyId);
  const cos = [...c.cosignatures].sort((a, b) => (label(a) < label(b) ? -1 : label(a) > label(b) ? 1 : 0));
  const lines = [...c.logLines, ...cos].slice(0, MAX_SIGNATURE_LINES);
  return c.text + '\n' + lines.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
}

/**
 * The largest checkpoint cosigned by at least n witnesses; among equal sizes the one with most.
 * Witnesses, not lines: one operator's two keys must not make a checkpoint look cosigned by two.
 */
export function pickCheckpoint(held: readonly HeldCheckpoint[], n: number, witnessOf: (label: string) => string = (l) => l): HeldCheckpoint | undefined {
  let best: HeldCheckpoint | undefined;
  let bestCount = 0;
  for (const c of held) {
    const count = new Set(c.cosignatures.map((s) => witnessOf(keyLabel(s.name, s.keyId)))).size;
    if (count < n) continue;
    if (!best || c.size > best.size || (c.size === best.size && count > bestCount)) [best, bestCount] = [c, count];
  }
  return best;
}

/**
 * A source from the store (this witness's own latest cosigned checkpoint) merged with an optional
 * view of more checkpoints (the gossip service's, verified there). Cosignatures merge on the exact text.
 */
export function distributorSource(o: {
  store: Pick<WitnessStore, 'getState'>;
  origins(): string[];
  logKeys(origin: string): VerifierSet | undefined;
  witnesses: readonly string[];
  witnessOf?: (label: string) => string;
  more?: (origin: string) => HeldCheckpoint[];
}): DistributorSource {
  return {
    origins: () => o.origins(),
    witnesses: () => [...o.witnesses],
    ...(o.witnessOf ? { witnessOf: o.witnessOf } : {}),
    async held(origin) {
      const out = new Map<string, { size: bigint; text: string; logLines: SignatureLine[]; cos: Map<string, SignatureLine>; fetchPq?: (ms: number) => Promise<void> }>();
      const add = (c: HeldCheckpoint) => {
        let e = out.get(c.text);
        if (!e) out.set(c.text, (e = { size: c.size, text: c.text, logLines: [...c.logLines], cos: new Map() }));
        e.fetchPq ??= c.fetchPq;
        for (const s of c.cosignatures) if (!e.cos.has(keyLabel(s.name, s.keyId))) e.cos.set(keyLabel(s.name, s.keyId), s);
      };
      for (const c of o.more?.(origin) ?? []) add(c);
      const keys = o.logKeys(origin);
      const state = keys ? await o.store.getState(origin) : undefined;
      if (state && keys) {
        try {
          const opened = openNote(state.cosigned, keys);
          const logLabels = new Set(opened.verified.map((s) => keyLabel(s.name, s.keyId)));
          // The stored note is this witness's own: its other lines are its own cosignatures.
          add({ size: parseCheckpoint(opened.text).size, text: opened.text, logLines: opened.verified, cosignatures: opened.signatures.filter((s) => !logLabels.has(keyLabel(s.name, s.keyId))) });
        } catch {
          // keys changed since it was stored: not served
        }
      }
      return [...out.values()].map((e) => ({ size: e.size, text: e.text, logLines: e.logLines, cosignatures: [...e.cos.values()], ...(e.fetchPq ? { fetchPq: e.fetchPq } : {}) }));
    },
  };
}

/** Registers the routes on a fastify instance (before it listens). */
export function registerDistributorRoutes(app: FastifyInstance, source: DistributorSource): void {
  const originOf = (id: string) => source.origins().find((o) => distributorLogId(o) === id);
  app.get(`${DISTRIBUTOR_PREFIX}/logs`, async (_req, reply) => reply.code(200).header('content-type', 'application/json').send(JSON.stringify(source.origins().map(distributorLogId).sort())));
  app.get(`${DISTRIBUTOR_PREFIX}/witnesses`, async (_req, reply) => reply.code(200).header('content-type', 'application/json').send(JSON.stringify([...source.witnesses()].sort())));
  app.get<{ Params: { logid: string; file: string }; Querystring: Record<string, unknown> }>(`${DISTRIBUTOR_PREFIX}/logs/:logid/:file`, async (req, reply) => {
    const text = (code: number, body: string) => reply.code(code).header('content-type', 'text/plain; charset=utf-8').send(body);
    const m = /^checkpoint(?:\.([0-9]{1,4}))?$/.exec(req.params.file);
    if (!m) return text(404, 'not found\n');
    // transparency-dev/distributor: N in 1..100 (maxSigs), else InvalidArgument.
    if (m[1] !== undefined && !/^([1-9][0-9]?|100)$/.test(m[1])) return text(400, 'N must be 1 to 100\n');
    const q = req.query?.pq;
    if (q !== undefined && q !== '0' && q !== '1') return text(400, 'pq must be 0 or 1\n');
    const pq = q === '1';
    const origin = /^[0-9a-f]{64}$/.test(req.params.logid) ? originOf(req.params.logid) : undefined;
    if (origin === undefined) return text(404, 'unknown log\n');
    const n = m[1] === undefined ? 0 : Number(m[1]);
    const pick = async () => pickCheckpoint((await source.held(origin)).map((c) => (pq ? c : withoutPq(c))), n, source.witnessOf?.bind(source));
    let c = await pick();
    if (pq) {
      // ML-DSA-44 lines travel on demand: fetch what peers announced on the candidate and on the
      // largest text held (which may reach N with them), then choose again.
      const held = await source.held(origin);
      const largest = held.reduce<HeldCheckpoint | undefined>((b, x) => (!b || x.size > b.size ? x : b), undefined);
      const texts = new Map([c, largest].filter((x): x is HeldCheckpoint => x !== undefined).map((x) => [x.text, x]));
      await Promise.all([...texts.values()].map((x) => x.fetchPq?.(PQ_FETCH_MS)));
      c = await pick();
    }
    if (!c) return text(404, `no checkpoint with at least ${n} cosignatures\n`);
    return text(200, formatHeld(c));
  });
}
