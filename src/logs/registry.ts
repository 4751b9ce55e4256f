// The logs a witness follows: inline logs from the config file plus, optionally, a logs/v0 list
// (file or http(s) URL) refreshed periodically.
//
// Invariants:
//  - a list update only ever ADDS logs or ADDS vkeys to a log; a log (or key) is never removed by a
//    list update, nor by a list that fails to load. The operator disables a log in the config
//    (`disabled: true`), which no list can override.
//  - a log's vkeys are deduplicated: the same key listed twice is one verifier, never an
//    "ambiguous key". A list key that collides with a different trusted key on (name, key ID) is
//    refused (it would make every signature by that name+ID ambiguous).
//  - with a cache file, everything ever learned from the list survives restarts, so a log dropped
//    from the list stays followed across a restart too.
import { writeFile, rename, mkdir, copyFile } from 'node:fs/promises';
import { readFileCapped, FileTooLargeError } from '../util/read-capped.js';
import { dirname } from 'node:path';
import { VerifierSet, keyLabel } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import type { VerifyMemo } from '../note/verify-memo.js';
import type { LogRegistry, WitnessLog } from '../witness/witness.js';
import { originHash } from '../checkpoint/checkpoint.js';
import { parseLogList, mergeLogList, formatLogList, type MergedListLog } from './loglist.js';
import { GossipWitnessError } from '../errors.js';

/** A log as configured inline (vkeys already parsed). */
export interface InlineLog {
  readonly origin: string;
  readonly verifiers: readonly Verifier[];
  readonly qpd?: number;
  readonly disabled?: boolean;
  readonly contact?: string;
}

export type LogListSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'url'; readonly url: string };

export interface RegistryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface LogRegistryOptions {
  inline?: readonly InlineLog[];
  logList?: LogListSource;
  /** Refresh period in milliseconds (default one hour). */
  refreshMs?: number;
  /** Where to keep everything learned from the list (logs/v0 text), so restarts never drop logs. */
  cachePath?: string;
  logger?: RegistryLogger;
  /** Largest list accepted, in bytes (default DEFAULT_MAX_LIST_BYTES). */
  maxListBytes?: number;
  /** Fetch timeout in milliseconds (default 30 s). */
  fetchTimeoutMs?: number;
  fetch?: typeof fetch;
  /** The node's memo of passed signature checks: every log key this registry hands out consults it. */
  verifyMemo?: VerifyMemo;
}

export interface RefreshResult {
  /** Origins newly followed. */
  readonly added: string[];
  /** Number of vkeys added to logs already followed. */
  readonly keysAdded: number;
  /** Keys refused (collision with another trusted key's name and key ID). */
  readonly refused: string[];
}

interface Entry {
  origin: string;
  verifiers: Verifier[];
  /** Canonical vkeys held, for deduplication. */
  vkeys: Set<string>;
  inlineQpd?: number;
  listQpd?: number;
  contact?: string;
  disabled: boolean;
  fromList: boolean;
  log: WitnessLog;
}

const DEFAULT_REFRESH_MS = 60 * 60 * 1000;
/** A log list is a few KiB; anything near this is not one (and is refused while being read). */
export const DEFAULT_MAX_LIST_BYTES = 4 * 1024 * 1024;
/** Same-origin redirects followed when fetching a log list. */
const MAX_LIST_REDIRECTS = 5;
const silent: RegistryLogger = { info() {}, warn() {} };

function buildLog(e: Omit<Entry, 'log'>, memo: VerifyMemo | undefined): WitnessLog {
  const qpd = e.inlineQpd ?? e.listQpd;
  const verifiers = memo ? e.verifiers.map((v) => memo.wrap(v)) : e.verifiers;
  return { origin: e.origin, verifiers: new VerifierSet(verifiers), ...(qpd !== undefined ? { qpd } : {}), ...(e.disabled ? { disabled: true } : {}) };
}

export class LogListLoadError extends GossipWitnessError {
  /** CONFIG: the list is unusable (a file the operator named, bad content); NETWORK: its URL did not answer. */
  constructor(message: string, code: 'CONFIG' | 'NETWORK' = 'CONFIG') {
    super({ code, message });
    this.name = 'LogListLoadError';
  }
}

export class LogRegistryImpl implements LogRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly byHash = new Map<string, string>();
  private readonly logger: RegistryLogger;
  private readonly refreshMs: number;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<RefreshResult> | undefined;
  private stopped = false;

  constructor(private readonly opts: LogRegistryOptions = {}) {
    this.logger = opts.logger ?? silent;
    this.refreshMs = opts.refreshMs ?? DEFAULT_REFRESH_MS;
    for (const l of opts.inline ?? []) this.addInline(l);
  }

  private addInline(l: InlineLog): void {
    if (this.entries.has(l.origin)) throw new Error(`duplicate inline log origin ${JSON.stringify(l.origin)}`);
    const e: Omit<Entry, 'log'> = { origin: l.origin, verifiers: [], vkeys: new Set(), inlineQpd: l.qpd, contact: l.contact, disabled: l.disabled === true, fromList: false };
    for (const v of l.verifiers) {
      if (e.vkeys.has(v.vkey)) continue;
      if (e.verifiers.some((x) => keyLabel(x.name, x.keyId) === keyLabel(v.name, v.keyId))) {
        throw new Error(`log ${JSON.stringify(l.origin)}: two different keys share the name and key ID ${keyLabel(v.name, v.keyId)}`);
      }
      e.vkeys.add(v.vkey);
      e.verifiers.push(v);
    }
    this.entries.set(l.origin, { ...e, log: buildLog(e, this.opts.verifyMemo) });
    this.byHash.set(originHash(l.origin), l.origin);
  }

  get(origin: string): WitnessLog | undefined {
    return this.entries.get(origin)?.log;
  }

  /** Every followed origin, disabled ones included. */
  origins(): string[] {
    return [...this.entries.keys()];
  }

  /** The origin whose lowercase hex SHA-256 is hash (monitoring GET), if followed. */
  originForHash(hash: string): string | undefined {
    return this.byHash.get(hash);
  }

  /** Details for status pages. */
  describe(origin: string): { origin: string; vkeys: string[]; qpd?: number; disabled: boolean; fromList: boolean; contact?: string } | undefined {
    const e = this.entries.get(origin);
    if (!e) return undefined;
    return { origin, vkeys: e.verifiers.map((v) => v.vkey), qpd: e.log.qpd, disabled: e.disabled, fromList: e.fromList, contact: e.contact };
  }

  /** Merges list logs in: adds logs and vkeys, never removes. */
  applyList(logs: readonly MergedListLog[]): RefreshResult {
    const added: string[] = [];
    const refused: string[] = [];
    let keysAdded = 0;
    for (const l of logs) {
      const cur = this.entries.get(l.origin);
      const e: Omit<Entry, 'log'> = cur
        ? { ...cur, verifiers: [...cur.verifiers], vkeys: new Set(cur.vkeys) }
        : { origin: l.origin, verifiers: [], vkeys: new Set(), disabled: false, fromList: true };
      let changed = !cur;
      for (const v of l.verifiers) {
        if (e.vkeys.has(v.vkey)) continue;
        if (e.verifiers.some((x) => keyLabel(x.name, x.keyId) === keyLabel(v.name, v.keyId))) {
          refused.push(v.vkey);
          continue;
        }
        e.vkeys.add(v.vkey);
        e.verifiers.push(v);
        if (cur) keysAdded++;
        changed = true;
      }
      if (e.verifiers.length === 0) continue; // every key refused: nothing to follow
      if (l.qpd !== undefined && l.qpd !== e.listQpd) {
        e.listQpd = l.qpd;
        changed = true;
      }
      e.contact ??= l.contact;
      e.fromList = true;
      if (!changed) continue;
      this.entries.set(l.origin, { ...e, log: buildLog(e, this.opts.verifyMemo) });
      if (!cur) {
        this.byHash.set(originHash(l.origin), l.origin);
        added.push(l.origin);
      }
    }
    return { added, keysAdded, refused };
  }

  /** Loads the list source once (and the cache first, if any). Throws LogListLoadError. */
  async refresh(): Promise<RefreshResult> {
    if (!this.opts.logList) return { added: [], keysAdded: 0, refused: [] };
    // One refresh at a time.
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<RefreshResult> {
    const src = this.opts.logList!;
    const where = src.kind === 'file' ? src.path : src.url;
    const text = await this.readSource(src);
    let merged: MergedListLog[];
    try {
      merged = mergeLogList(parseLogList(text).entries);
    } catch (e) {
      throw new LogListLoadError(`log list ${where}: ${(e as Error).message}`);
    }
    const result = this.applyList(merged);
    if (result.added.length > 0 || result.keysAdded > 0) {
      this.logger.info({ logList: where, added: result.added.length, keysAdded: result.keysAdded }, 'log list applied');
      await this.writeCache();
    }
    if (result.refused.length > 0) this.logger.warn({ logList: where, refused: result.refused }, 'log list keys refused: they collide with another trusted key on name and key ID');
    return result;
  }

  private async readSource(src: LogListSource): Promise<string> {
    const max = this.opts.maxListBytes ?? DEFAULT_MAX_LIST_BYTES;
    if (src.kind === 'file') {
      try {
        // Capped while reading: /dev/zero or a pipe cannot make it read without end.
        return (await readFileCapped(src.path, max)).toString('utf8');
      } catch (e) {
        throw new LogListLoadError(`log list ${src.path}: ${(e as Error).message}`);
      }
    }
    const f = this.opts.fetch ?? fetch;
    const signal = AbortSignal.timeout(this.opts.fetchTimeoutMs ?? 30_000);
    let res: Response;
    let url = src.url;
    // Redirects are followed only within the list's own scheme, host and port: a redirect must
    // not hand the choice of trusted log keys to another server.
    for (let hops = 0; ; hops++) {
      try {
        res = await f(url, { signal, redirect: 'manual' });
      } catch (e) {
        throw new LogListLoadError(`log list ${src.url}: ${(e as Error).message}`, 'NETWORK');
      }
      if (res.status < 300 || res.status >= 400 || res.status === 304) break;
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get('location');
      let next: URL;
      try {
        next = new URL(location ?? '', url);
      } catch {
        throw new LogListLoadError(`log list ${src.url}: HTTP ${res.status} with a bad Location`);
      }
      if (location === null) throw new LogListLoadError(`log list ${src.url}: HTTP ${res.status} without a Location`);
      if (next.origin !== new URL(src.url).origin) {
        throw new LogListLoadError(`log list ${src.url}: redirect to another host refused (${next.origin}); configure the list's final URL`);
      }
      if (hops >= MAX_LIST_REDIRECTS) throw new LogListLoadError(`log list ${src.url}: more than ${MAX_LIST_REDIRECTS} redirects`);
      url = next.href;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new LogListLoadError(`log list ${src.url}: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > max) {
      await res.body?.cancel().catch(() => {});
      throw new LogListLoadError(`log list ${src.url}: larger than ${max} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (e) {
          throw new LogListLoadError(`log list ${src.url}: ${(e as Error).message}`);
        }
        if (r.done) break;
        total += r.value.length;
        if (total > max) {
          await reader.cancel().catch(() => {});
          throw new LogListLoadError(`log list ${src.url}: larger than ${max} bytes`);
        }
        chunks.push(r.value);
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Loads what earlier runs learned from the list. A missing cache is fine; a bad one is logged. */
  async loadCache(): Promise<RefreshResult | undefined> {
    const path = this.opts.cachePath;
    if (!path) return undefined;
    let text: string;
    try {
      text = (await readFileCapped(path, this.opts.maxListBytes ?? DEFAULT_MAX_LIST_BYTES)).toString('utf8');
    } catch (e) {
      if (e instanceof FileTooLargeError) this.logger.warn({ cache: path, err: e.message }, 'ignoring an oversized log list cache');
      else if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ cache: path, err: (e as Error).message }, 'cannot read the log list cache');
      return undefined;
    }
    try {
      return this.applyList(mergeLogList(parseLogList(text).entries));
    } catch (e) {
      // Kept beside it: writeCache replaces the cache, and what it held may be needed (logs learned from older lists).
      const kept = `${path}.corrupt-${Date.now()}`;
      await copyFile(path, kept).catch(() => {});
      this.logger.warn({ cache: path, kept, err: (e as Error).message }, 'ignoring a corrupt log list cache (a copy is kept)');
      return undefined;
    }
  }

  private async writeCache(): Promise<void> {
    const path = this.opts.cachePath;
    if (!path) return;
    const logs: MergedListLog[] = [];
    for (const e of this.entries.values()) {
      if (!e.fromList) continue;
      logs.push({ origin: e.origin, verifiers: e.verifiers, qpd: e.listQpd, contact: e.contact });
    }
    try {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.tmp`;
      await writeFile(tmp, formatLogList(logs));
      await rename(tmp, path);
    } catch (e) {
      this.logger.warn({ cache: path, err: (e as Error).message }, 'cannot write the log list cache');
    }
  }

  /**
   * Loads the cache, then the list once (an error is thrown for the caller to decide), then
   * refreshes every refreshMs until stop(). Periodic failures are logged and keep the current logs.
   */
  async start(): Promise<void> {
    if (!this.opts.logList) return;
    await this.loadCache();
    this.stopped = false;
    try {
      await this.refresh();
    } finally {
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped || !this.opts.logList) return;
    this.timer = setTimeout(() => {
      this.refresh()
        .catch((e) => this.logger.warn({ err: (e as Error).message }, 'log list refresh failed; keeping the current logs'))
        .finally(() => this.schedule());
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
