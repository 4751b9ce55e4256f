// A small but real transparency log, in-process: `gossip-witness log serve` is a thin wrapper
// around startLocalLog(). See docs/local-log.md.
//
//   const log = await startLocalLog({ origin: 'example.com/log', witnesses: [{ url, vkey }] });
//   await log.append(['entry 1', 'entry 2']);
//   await log.publish();            // sign now and push to every witness, waiting for them
//   log.checkpoint();               // the served checkpoint, with the witnesses' cosignatures
//   log.forkAt(8n);                 // equivocate from size 8 on (branch b)
//   await log.stop();
import { pino, type Logger } from 'pino';
import { existsSync } from 'node:fs';
import { generateKey, parseSkey, parseCosignatureVkey, isValidKeyName, unixSeconds, type Ed25519SignerKey, type Verifier } from '../../note/keys.js';
import { generateMlDsa44Key, parseMlDsa44Skey, type MlDsa44Key } from '../../note/mldsa-keys.js';
import { MLDSA44 } from '../../note/sigtypes/mldsa44.js';
import { keyLabel } from '../../note/note.js';
import { KeyFileError, loadOrCreateKeyFile, readMlDsa44KeyFile, writeKeyFile } from '../../keys/keyfile.js';
import { decodeBase64, utf8 } from '../../util/bytes.js';
import { AddRefused, LocalLogCore, LocalLogError, MAX_ENTRY_SIZE, type AppendTarget, type BranchName, type LocalLogKey, type PublishedCheckpoint, type SequenceItem, type SequenceResult } from './log.js';
import { pushCheckpoint, type PushOutcome } from './push.js';
import { startLocalLogServer, type LocalLogServer } from './server.js';

export { AddRefused, LocalLogCore, LocalLogError, FORK_MARKER, MAX_ENTRY_SIZE, type AppendTarget, type BranchName, type LocalLogKey, type PublishedCheckpoint } from './log.js';
export { pushCheckpoint, filterCosignatures, addCheckpointUrl, MAX_409_RETRIES, type PushOutcome, type PushTarget } from './push.js';
export { answerTlogTiles, selectBranch, normalizeAddress, startLocalLogServer } from './server.js';
export { hashTile, entryBundle, encodeEntryRecords, decodeEntryRecords, TileDirWriter, type TileSource } from './tiles.js';

export const DEFAULT_INTERVAL_MS = 1000;
export const DEFAULT_BATCH_MS = 10;
export const DEFAULT_MAX_BATCH = 4096;
const MAX_BACKOFF_MS = 60_000;

export interface LocalLogWitness {
  /** Submission prefix: add-checkpoint is POSTed to <url>/add-checkpoint. */
  url: string;
  /** The witness's vkey (0x01, 0x04 or ML-DSA-44 0x06); when set, only cosignatures verifying under it are kept. */
  vkey?: string;
  /** Every vkey of a witness that cosigns with several keys (e.g. Ed25519 and ML-DSA-44); with vkey, both count. */
  vkeys?: readonly string[];
  /** The branch pushed to this witness (default a). Before the fork, b is the same as a. */
  branch?: BranchName;
}

export interface LocalLogOptions {
  /** Checkpoint origin (first line). */
  origin: string;
  /**
   * The log's signing key: an Ed25519 or ML-DSA-44 key, an skey string (either type), or (with
   * keyFile) none. Default: a fresh key of keyType.
   */
  key?: Ed25519SignerKey | MlDsa44Key | string;
  /** Key file, created (0600) with a fresh key of keyType when missing; an existing file's type must match keyType when given. */
  keyFile?: string;
  /**
   * Signature type of the log's checkpoint signatures: 'ed25519' (0x01, the default) or
   * 'ml-dsa-44' (0x06 subtree/v1 over [0, size), timestamped with the signing time).
   */
  keyType?: LocalLogKeyType;
  /** Key name for a created key (default: the origin, which must then be a valid key name). */
  keyName?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Persist entries here and write the tlog-tiles layout (branch b in <dir>/branch-b). */
  dir?: string;
  /** Checkpoint interval in ms (default 1000). 0: no timer, call publish(). */
  intervalMs?: number;
  /** How long an entry may wait for its batch (default 10 ms). */
  batchMs?: number;
  /** A batch is sequenced as soon as it holds this many entries (default 4096). */
  maxBatch?: number;
  witnesses?: LocalLogWitness[];
  /** Equivocate from this size on. */
  forkAt?: bigint | number;
  /** Request header selecting the branch ("b" or "a"), e.g. X-Fork-Branch. Off when unset. */
  forkHeader?: string;
  /** Client source addresses shown branch b (e.g. 127.0.0.2). */
  forkAddrs?: string[];
  /** Per-request timeout for pushes (default 10 s). */
  pushTimeoutMs?: number;
  logger?: Logger;
  fetch?: typeof fetch;
}

export interface WitnessStatus {
  url: string;
  branch: BranchName;
  vkey?: string;
  /** The size the witness is believed to hold for this log (last cosigned, or told by a 409). */
  size: bigint;
  /** Size of the last checkpoint it cosigned for us, if any. */
  cosignedSize?: bigint;
  pushes: number;
  cosigned: number;
  consecutiveFailures: number;
  lastOutcome?: PushOutcome;
}

export interface LocalLog {
  /** Base URL of the HTTP API (tlog-tiles prefix). */
  readonly url: string;
  readonly origin: string;
  /** The log's vkey: Ed25519 (0x01) or ML-DSA-44 (0x06). */
  readonly vkey: string;
  /** The transport-free core: trees, entries, proofs, published checkpoints. */
  readonly core: LocalLogCore;
  /** Appends entries; resolves to their indexes (in branch a, or in b for branch 'b') once sequenced. */
  append(entries: Iterable<Uint8Array | string>, opts?: { branch?: AppendTarget }): Promise<bigint[]>;
  /** Equivocate from size n on (see LocalLogCore.forkAt); branch b gets its own checkpoint at once. */
  forkAt(n: bigint | number): void;
  readonly forkSize: bigint | undefined;
  /** Sequences pending entries, signs every branch that grew, pushes to every witness lacking a cosignature, waits for the pushes. */
  publish(): Promise<void>;
  /** The checkpoint a branch serves (log signature plus collected cosignatures). */
  checkpoint(branch?: BranchName): string;
  /** Sequenced size of a branch (may be ahead of its checkpoint). */
  size(branch?: BranchName): bigint;
  witnesses(): WitnessStatus[];
  addWitness(w: LocalLogWitness): void;
  /** Pushes branch b (or a) to a witness from now on. */
  setWitnessBranch(url: string, branch: BranchName): void;
  stop(): Promise<void>;
}

class Feed {
  size = 0n;
  cosignedText: string | undefined;
  cosignedSize: bigint | undefined;
  inflight: Promise<void> | undefined;
  consecutiveFailures = 0;
  nextAttemptAt = 0;
  pushes = 0;
  cosigned = 0;
  lastOutcome: PushOutcome | undefined;

  constructor(
    readonly url: string,
    readonly vkey: string | undefined,
    readonly verifier: readonly Verifier[] | undefined,
    public branch: BranchName,
  ) {}
}

function normalizeWitnessUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LocalLogError(`bad witness URL ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new LocalLogError(`witness URL must be http(s): ${url}`);
  return url.replace(/\/+$/, '');
}

export type LocalLogKeyType = 'ed25519' | 'ml-dsa-44';
export const LOCAL_LOG_KEY_TYPES: readonly LocalLogKeyType[] = ['ed25519', 'ml-dsa-44'];

/** The signature type byte of an skey (PRIVATE+KEY+name+keyid+base64(type || ...)), or undefined. */
function skeyType(skey: string): number | undefined {
  const m = /^PRIVATE\+KEY\+[^+]*\+[^+]*\+(.*)$/s.exec(skey.trim());
  const material = m ? decodeBase64(m[1]) : null;
  return material && material.length > 0 ? material[0] : undefined;
}

/** An ML-DSA-44 key as a log signer: 0x06 signatures timestamped with the signing time. */
function mlDsaLogKey(k: MlDsa44Key): LocalLogKey {
  return k.logSigner(unixSeconds);
}

function typeOf(skey: string): LocalLogKeyType {
  return skeyType(skey) === MLDSA44 ? 'ml-dsa-44' : 'ed25519';
}

function resolveKey(opts: LocalLogOptions): LocalLogKey {
  const name = opts.keyName ?? opts.origin;
  const wanted = opts.keyType;
  if (wanted !== undefined && !LOCAL_LOG_KEY_TYPES.includes(wanted)) throw new LocalLogError(`unknown key type ${JSON.stringify(wanted)} (${LOCAL_LOG_KEY_TYPES.join(' or ')})`);
  const mismatch = (have: LocalLogKeyType, what: string) => {
    if (wanted !== undefined && wanted !== have) throw new LocalLogError(`${what} is an ${have === 'ed25519' ? 'Ed25519' : 'ML-DSA-44'} key, but the key type asked for is ${wanted}`);
  };
  if (typeof opts.key === 'string') {
    const t = typeOf(opts.key);
    mismatch(t, 'the given skey');
    return t === 'ml-dsa-44' ? mlDsaLogKey(parseMlDsa44Skey(opts.key.trim())) : parseSkey(opts.key.trim());
  }
  if (opts.key !== undefined) {
    if ('logSigner' in opts.key) {
      mismatch('ml-dsa-44', 'the given key');
      return mlDsaLogKey(opts.key);
    }
    mismatch('ed25519', 'the given key');
    return opts.key;
  }
  if (!isValidKeyName(name)) {
    throw new LocalLogError(`the origin ${JSON.stringify(opts.origin)} is not a valid key name (no "+" or spaces): give a key name`);
  }
  if (opts.keyFile !== undefined) {
    const file = opts.keyFile;
    if (existsSync(file)) {
      // An existing key file decides the type (checked against keyType when given).
      let k: MlDsa44Key | undefined;
      try {
        k = readMlDsa44KeyFile(file);
      } catch (e) {
        // Not a 0x06 key: the Ed25519 reader gives its own errors (mode, size, format).
        if (!(e instanceof KeyFileError) || !/not an ML-DSA-44/.test(e.message)) throw e;
      }
      if (k !== undefined) {
        mismatch('ml-dsa-44', `key file ${file}`);
        if (k.name !== name) throw new KeyFileError(`key file ${file} holds a key named ${k.name}, but the configured name is ${name}`);
        return mlDsaLogKey(k);
      }
      mismatch('ed25519', `key file ${file}`);
      return loadOrCreateKeyFile(file, name).key;
    }
    if (wanted === 'ml-dsa-44') {
      const k = generateMlDsa44Key(name);
      writeKeyFile(file, k);
      return mlDsaLogKey(k);
    }
    return loadOrCreateKeyFile(file, name).key;
  }
  return wanted === 'ml-dsa-44' ? mlDsaLogKey(generateMlDsa44Key(name)) : generateKey(name);
}

export async function startLocalLog(opts: LocalLogOptions): Promise<LocalLog> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const key = resolveKey(opts);
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const batchMs = opts.batchMs ?? DEFAULT_BATCH_MS;
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  const forkAt = opts.forkAt === undefined ? undefined : BigInt(opts.forkAt);
  const core = new LocalLogCore({ origin: opts.origin, key, ...(opts.dir !== undefined ? { dir: opts.dir } : {}), ...(forkAt !== undefined ? { forkAt } : {}) });
  const reserved = new Set([keyLabel(key.name, key.keyId)]);
  const feeds: Feed[] = [];
  const abort = new AbortController();
  let stopped = false;

  const addWitness = (w: LocalLogWitness): void => {
    const url = normalizeWitnessUrl(w.url);
    if (feeds.some((f) => f.url === url)) throw new LocalLogError(`witness ${url} is listed twice`);
    const vkeys = [...new Set([...(w.vkey !== undefined ? [w.vkey.trim()] : []), ...(w.vkeys ?? []).map((v) => v.trim())])];
    let verifier: Verifier[] | undefined;
    if (vkeys.length > 0) {
      try {
        verifier = vkeys.map((v) => parseCosignatureVkey(v));
      } catch (e) {
        throw new LocalLogError(`witness ${url}: ${(e as Error).message}`);
      }
    }
    feeds.push(new Feed(url, vkeys[0], verifier, w.branch ?? 'a'));
  };
  try {
    for (const w of opts.witnesses ?? []) addWitness(w);
  } catch (e) {
    core.close();
    throw e;
  }

  // ---- sequencing: entries wait up to batchMs and are sequenced (and fsynced) together ----
  let pending: { item: SequenceItem; resolve: (r: SequenceResult) => void; reject: (e: unknown) => void }[] = [];
  let batchTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (batchTimer) clearTimeout(batchTimer);
    batchTimer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    let results: SequenceResult[];
    try {
      results = core.sequence(batch.map((p) => p.item));
    } catch (e) {
      logger.error({ err: e }, 'sequencing failed');
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]));
    logger.debug({ entries: batch.length, size: core.size('a') }, 'sequenced');
  };
  const enqueue = (item: SequenceItem): Promise<SequenceResult> => {
    if (stopped) return Promise.reject(new LocalLogError('the log is stopped', 'UNAVAILABLE'));
    const problem = core.check(item);
    if (problem !== undefined) return Promise.reject(new AddRefused(problem));
    return new Promise<SequenceResult>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (pending.length >= maxBatch) flush();
      else batchTimer ??= setTimeout(flush, batchMs);
    });
  };
  const indexOf = (r: SequenceResult, view: BranchName): bigint => {
    if ('error' in r) throw new AddRefused(r.error);
    const i = r[view] ?? r.a ?? r.b;
    if (i === undefined) throw new LocalLogError('entry was not sequenced');
    return i;
  };

  // ---- publishing and pushing ----
  const feedBranch = (f: Feed): BranchName => (f.branch === 'b' && core.forkSize !== undefined ? 'b' : 'a');
  const publishAll = (): void => {
    for (const name of core.branchNames()) {
      const p = core.publish(name);
      if (p) logger.info({ branch: name, size: p.size.toString(), root: Buffer.from(p.root).toString('base64') }, 'signed checkpoint');
    }
  };
  const pushOnce = async (f: Feed, p: PublishedCheckpoint, name: BranchName): Promise<void> => {
    f.pushes++;
    const outcome = await pushCheckpoint({
      url: f.url,
      oldSize: f.size,
      target: { size: p.size, text: p.text, note: p.logNote, proof: (old) => core.consistencyProof(name, old, p.size) },
      ...(f.verifier ? { verifier: f.verifier } : {}),
      reservedKeys: reserved,
      ...(opts.pushTimeoutMs !== undefined ? { timeoutMs: opts.pushTimeoutMs } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      signal: abort.signal,
    });
    f.lastOutcome = outcome;
    const ctx = { witness: f.url, branch: name, size: p.size.toString() };
    if (outcome.kind === 'cosigned') {
      f.size = p.size;
      f.cosignedSize = p.size;
      f.cosignedText = p.text;
      f.consecutiveFailures = 0;
      f.nextAttemptAt = 0;
      f.cosigned++;
      const added = core.addCosignatures(name, p.text, f.url, outcome.lines);
      if (outcome.lines === '') logger.warn({ ...ctx, dropped: outcome.dropped }, 'witness answered 200 but no cosignature line could be kept');
      else logger.info({ ...ctx, retries: outcome.retries, dropped: outcome.dropped, added }, 'witness cosigned');
      return;
    }
    if (outcome.kind === 'ahead') f.size = outcome.witnessSize;
    else if (outcome.witnessSize !== undefined) f.size = outcome.witnessSize;
    f.consecutiveFailures++;
    const backoff = Math.min(Math.max(intervalMs, 100) * 2 ** (f.consecutiveFailures - 1), MAX_BACKOFF_MS);
    f.nextAttemptAt = Date.now() + backoff;
    if (!stopped) logger.warn({ ...ctx, outcome: outcome.kind, ...(outcome.kind === 'failed' ? { status: outcome.status, reason: outcome.reason } : { witnessSize: outcome.witnessSize.toString() }), retryInMs: backoff }, 'push to witness failed');
  };
  /** Pushes the feed's branch checkpoint unless the witness already cosigned that exact text. */
  const ensurePushed = async (f: Feed, force: boolean): Promise<void> => {
    if (f.inflight) {
      if (!force) return;
      await f.inflight.catch(() => {});
    }
    if (stopped) return;
    const name = feedBranch(f);
    const p = core.published(name);
    if (p === undefined || p.size === 0n || f.cosignedText === p.text) return;
    if (!force && Date.now() < f.nextAttemptAt) return;
    const run = pushOnce(f, p, name).finally(() => {
      if (f.inflight === run) f.inflight = undefined;
    });
    f.inflight = run;
    return run;
  };
  const tick = (): void => {
    if (stopped) return;
    try {
      publishAll();
    } catch (e) {
      logger.error({ err: e }, 'publishing failed');
    }
    for (const f of feeds) void ensurePushed(f, false).catch((e) => logger.error({ err: e, witness: f.url }, 'push failed'));
  };

  // ---- HTTP ----
  let server: LocalLogServer;
  try {
    publishAll();
    server = await startLocalLogServer({
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      selector: {
        forked: () => core.forkSize !== undefined,
        ...(opts.forkHeader !== undefined ? { header: opts.forkHeader } : {}),
        addrs: new Set(opts.forkAddrs ?? []),
      },
      checkpoint: (b) => (core.published(b) ? core.checkpoint(b) : undefined),
      source: (b) => core.source(b),
      add: async (entry, target, view) => indexOf(await enqueue({ entry, target }), view),
      maxEntrySize: MAX_ENTRY_SIZE,
      onError: (e) => logger.error({ err: e }, 'HTTP handler failed'),
    });
  } catch (e) {
    core.close();
    throw e;
  }
  const timer = intervalMs > 0 ? setInterval(tick, intervalMs) : undefined;
  timer?.unref?.();
  if (intervalMs > 0) setImmediate(tick);

  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    origin: opts.origin,
    vkey: key.vkey,
    core,
    get forkSize() {
      return core.forkSize;
    },
    async append(entries, o = {}) {
      const target = o.branch ?? 'both';
      const items = [...entries].map((e) => ({ entry: typeof e === 'string' ? utf8(e) : e, target }));
      const results = await Promise.all(items.map((item) => enqueue(item)));
      return results.map((r) => indexOf(r, target === 'b' ? 'b' : 'a'));
    },
    forkAt(n) {
      core.forkAt(BigInt(n));
      const p = core.publish('b');
      if (p) logger.warn({ forkAt: BigInt(n).toString(), size: p.size.toString() }, 'equivocating: branch b created');
    },
    async publish() {
      if (stopped) throw new LocalLogError('the log is stopped');
      flush();
      publishAll();
      await Promise.all(feeds.map((f) => ensurePushed(f, true)));
    },
    checkpoint(branch = 'a') {
      return core.checkpoint(branch);
    },
    size(branch = 'a') {
      return core.size(branch);
    },
    witnesses() {
      return feeds.map((f) => ({
        url: f.url,
        branch: f.branch,
        ...(f.vkey !== undefined ? { vkey: f.vkey } : {}),
        size: f.size,
        ...(f.cosignedSize !== undefined ? { cosignedSize: f.cosignedSize } : {}),
        pushes: f.pushes,
        cosigned: f.cosigned,
        consecutiveFailures: f.consecutiveFailures,
        ...(f.lastOutcome ? { lastOutcome: f.lastOutcome } : {}),
      }));
    },
    addWitness,
    setWitnessBranch(url, branch) {
      const f = feeds.find((x) => x.url === normalizeWitnessUrl(url));
      if (!f) throw new LocalLogError(`unknown witness ${url}`);
      f.branch = branch;
      f.cosignedText = undefined;
      f.nextAttemptAt = 0;
    },
    stop() {
      stopping ??= (async () => {
        if (timer) clearInterval(timer);
        flush();
        stopped = true;
        abort.abort();
        await Promise.all(feeds.map((f) => f.inflight?.catch(() => {})));
        await server.close();
        core.close();
      })();
      return stopping;
    },
  };
}
