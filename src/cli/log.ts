// `gossip-witness log serve` runs a local transparency log (src/logs/local-log, docs/local-log.md);
// `gossip-witness log add` appends an entry to one; `gossip-witness log proof` writes a
// c2sp.org/tlog-proof@v1 for one of its entries.
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { MAX_TIMER_MS, parseDuration, parseListen } from '../config.js';
import { LOCAL_LOG_KEY_TYPES, startLocalLog, type LocalLog, type LocalLogKeyType, type LocalLogWitness } from '../logs/local-log/index.js';
import { writeFileSync } from 'node:fs';
import { parseCheckpoint, parseTreeSize } from '../checkpoint/checkpoint.js';
import { parseNote } from '../note/note.js';
import { inclusionProofAsync, tilePath, tileSubtreeHasher, verifyInclusion } from '../merkle/index.js';
import { formatTlogProof } from '../policy/tlog-proof.js';
import { decodeBase64, encodeBase64 } from '../util/bytes.js';
import { MAX_ENTRY_BYTES, readInput } from './io.js';
import { BadInputError, NetworkError, RefusedError, UsageError, startupError } from './errors.js';
import { waitForShutdown } from './shutdown.js';
import { nudgeMemoryReducer } from './memory-reducer.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DEFAULT_LISTEN = '127.0.0.1:7390';
const collect = (v: string, prev: string[]) => [...prev, v];

interface ServeOptions {
  origin: string;
  key?: string;
  keyName?: string;
  keyType?: string;
  listen: string;
  dir?: string;
  interval: string;
  batch: string;
  witness: string[];
  witnessVkey: string[];
  forkAt?: string;
  forkHeader?: string;
  forkAddr: string[];
  forkWitness: string[];
  logLevel: string;
}

const SERVE_HELP = `
Endpoints (tlog-tiles under the listen URL):
  GET  /checkpoint, /tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>]
  POST /add            body = one entry (at most 65524 bytes); answers {"index":N}
                       once sequenced (persisted); it appears in the next checkpoint

Checkpoints are signed every --interval, only when the tree grew since the last one,
with Ed25519 (0x01) or, with --key-type ml-dsa-44, ML-DSA-44 (0x06 subtree/v1 over the
whole tree, timestamped; it does not cover extension lines, and this log writes none).
Each one is pushed to every --witness (tlog-witness add-checkpoint, following 409 up
to 3 times), and the cosignatures returned on that exact text are added to the served
checkpoint (verified when the witness's --witness-vkey is given).

Equivocation (research and tests only; a log doing this is provably dishonest):
  --fork-at N keeps a second branch b: the same first N entries, then for each entry
  appended the copy "[branch b] " + entry, so every later checkpoint of b has another
  root than a's at the same size. Both branches are signed with the log's key. Branch b
  is served (checkpoint, tiles, entries: everything) to requests carrying the
  --fork-header with the value "b" (the value "a" forces branch a) and to requests from
  a --fork-addr source address (127.0.0.N works on Linux loopback); it is pushed to the
  witnesses listed with --fork-witness. Everyone else sees branch a. With --dir, the fork
  is persisted and branch b's tiles are written to DIR/branch-b.

Example:
  gossip-witness log serve --origin example.com/log --key log.key --dir log \\
    --witness http://127.0.0.1:7380 --witness-vkey 'witness.example/w1+...' \\
    --fork-at 8 --fork-header X-Fork-Branch --fork-addr 127.0.0.2
`;

function parseForkAt(s: string): bigint {
  const n = parseTreeSize(s);
  if (n === null) throw new UsageError(`--fork-at must be a tree size (a decimal number), got ${JSON.stringify(s)}`);
  return n;
}

function witnessList(opts: ServeOptions): LocalLogWitness[] {
  if (opts.witnessVkey.length > opts.witness.length) throw new UsageError('more --witness-vkey than --witness flags (the i-th vkey belongs to the i-th witness)');
  const norm = (u: string) => u.replace(/\/+$/, '');
  const list: LocalLogWitness[] = opts.witness.map((url, i) => ({ url, ...(opts.witnessVkey[i] !== undefined ? { vkey: opts.witnessVkey[i] } : {}) }));
  for (const url of opts.forkWitness) {
    const w = list.find((x) => norm(x.url) === norm(url));
    if (w) w.branch = 'b';
    else list.push({ url, branch: 'b' });
  }
  return list;
}

export function registerLog(program: Command): void {
  const log = program.command('log').description('run a local transparency log (tlog-tiles), or add entries to one');

  log
    .command('serve')
    .description('run a local tlog-tiles log that signs checkpoints, pushes them to witnesses and can equivocate')
    .requiredOption('--origin <origin>', 'checkpoint origin (first line of every checkpoint)')
    .option('--key <file>', 'key file (skey), created 0600 with a fresh key of --key-type when missing (default: an ephemeral key)')
    .option('--key-name <name>', 'key name for a created key (default: the origin)')
    .option('--key-type <type>', `signature type of the log's checkpoints: ${LOCAL_LOG_KEY_TYPES.join(' or ')} (default: ed25519, or the type of an existing --key file)`)
    .option('--listen <host:port>', 'HTTP listen address; port 0 picks a free port', DEFAULT_LISTEN)
    .option('--dir <dir>', 'persist entries and write the tlog-tiles layout (checkpoint, tile/...) here (default: memory only)')
    .option('--interval <duration>', 'checkpoint interval (e.g. 500ms, 1s, 1m); a checkpoint is signed only when the tree grew', '1s')
    .option('--batch <duration>', 'how long an added entry may wait to be sequenced with others', '10ms')
    .option('--witness <url>', "a witness's add-checkpoint prefix to push checkpoints to (repeatable)", collect, [])
    .option('--witness-vkey <vkey>', 'vkey of the i-th --witness: keep only cosignatures that verify under it (repeatable)', collect, [])
    .option('--fork-at <n>', 'EQUIVOCATE: from tree size N on, keep a second, inconsistent branch b signed with the same key')
    .option('--fork-header <name>', 'serve branch b to requests whose header NAME is "b" (e.g. X-Fork-Branch; "a" forces branch a)')
    .option('--fork-addr <addr>', 'serve branch b to requests from this source address, e.g. 127.0.0.2 (repeatable)', collect, [])
    .option('--fork-witness <url>', 'push branch b to this witness (added if not a --witness; repeatable)', collect, [])
    .option('--log-level <level>', `log level: ${LEVELS.join(', ')}`, 'info')
    .addHelpText('after', SERVE_HELP)
    .action(async (opts: ServeOptions) => {
      if (!LEVELS.includes(opts.logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
      if (opts.keyType !== undefined && !(LOCAL_LOG_KEY_TYPES as readonly string[]).includes(opts.keyType)) {
        throw new UsageError(`--key-type must be ${LOCAL_LOG_KEY_TYPES.join(' or ')}, got ${JSON.stringify(opts.keyType)}`);
      }
      const listen = parseListen(opts.listen);
      if (!listen) throw new UsageError(`--listen must be HOST:PORT, got ${JSON.stringify(opts.listen)}`);
      const interval = parseDuration(opts.interval);
      if (interval === null || interval < 10 || interval > MAX_TIMER_MS) throw new UsageError(`--interval must be a duration from 10ms to 24d (e.g. 1s), got ${JSON.stringify(opts.interval)}`);
      const batch = parseDuration(opts.batch);
      if (batch === null || batch > 60_000) throw new UsageError(`--batch must be a duration up to 1m (e.g. 10ms), got ${JSON.stringify(opts.batch)}`);
      for (const a of opts.forkAddr) if (isIP(a) === 0) throw new UsageError(`--fork-addr must be an IP address, got ${JSON.stringify(a)}`);
      if (opts.forkHeader !== undefined && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(opts.forkHeader)) throw new UsageError(`--fork-header must be an HTTP header name, got ${JSON.stringify(opts.forkHeader)}`);
      const forkAt = opts.forkAt !== undefined ? parseForkAt(opts.forkAt) : undefined;
      const witnesses = witnessList(opts);

      const logger: Logger = pino({ level: opts.logLevel, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
      let running: LocalLog;
      try {
        running = await startLocalLog({
          origin: opts.origin,
          ...(opts.key !== undefined ? { keyFile: opts.key } : {}),
          ...(opts.keyName !== undefined ? { keyName: opts.keyName } : {}),
          ...(opts.keyType !== undefined ? { keyType: opts.keyType as LocalLogKeyType } : {}),
          host: listen.host,
          port: listen.port,
          ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
          intervalMs: interval,
          batchMs: batch,
          witnesses,
          ...(forkAt !== undefined ? { forkAt } : {}),
          ...(opts.forkHeader !== undefined ? { forkHeader: opts.forkHeader } : {}),
          forkAddrs: opts.forkAddr,
          logger,
        });
      } catch (e) {
        throw startupError(e, 'cannot start the log');
      }
      if (opts.key === undefined) logger.warn('no --key: using an ephemeral key; checkpoints will not verify after a restart');
      const fork = running.forkSize;
      if (fork === undefined && (opts.forkHeader !== undefined || opts.forkAddr.length > 0 || opts.forkWitness.length > 0)) {
        logger.warn('fork options given without --fork-at: everyone sees branch a');
      }
      // Signal handlers first: whoever reads "log listening" may send SIGTERM at once.
      const stopped = waitForShutdown(() => running.stop(), logger);
      logger.info(
        {
          url: running.url,
          origin: running.origin,
          vkey: running.vkey,
          size: running.size('a').toString(),
          witnesses: witnesses.map((w) => `${w.url}${w.branch === 'b' ? ' (branch b)' : ''}`),
          ...(fork !== undefined ? { forkAt: fork.toString(), forkHeader: opts.forkHeader, forkAddrs: opts.forkAddr } : {}),
        },
        'log listening',
      );
      // As serve does: start-up garbage goes back to the OS once idle on Node 24 and 26 (memory-reducer.ts).
      const stopNudging = nudgeMemoryReducer();
      await stopped;
      stopNudging();
    });

  log
    .command('add')
    .description('add an entry to a local log (POST <url>/add); prints its index')
    .requiredOption('--url <url>', "the log's base URL")
    .option('--branch <branch>', 'append to branch a or b only (equivocating logs)')
    .argument('[file]', 'entry file ("-" or absent: stdin)')
    .action(async (file: string | undefined, opts: { url: string; branch?: string }) => {
      if (opts.branch !== undefined && opts.branch !== 'a' && opts.branch !== 'b') throw new UsageError('--branch must be a or b');
      let base: URL;
      try {
        base = new URL(opts.url);
      } catch {
        throw new UsageError(`--url is not a URL: ${JSON.stringify(opts.url)}`);
      }
      if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(opts.url)}`);
      const entry = readInput(file, MAX_ENTRY_BYTES);
      const target = `${base.href.replace(/\/+$/, '')}/add${opts.branch ? `?branch=${opts.branch}` : ''}`;
      let res: Response;
      try {
        res = await fetch(target, { method: 'POST', body: new Uint8Array(entry), signal: AbortSignal.timeout(30_000) });
      } catch (e) {
        const err = e as Error;
        throw new NetworkError(`cannot reach ${target}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
      }
      const body = await res.text();
      if (res.status !== 200) throw new RefusedError(`${target}: HTTP ${res.status}: ${body.trim()}`);
      let index: unknown;
      try {
        index = (JSON.parse(body) as { index?: unknown }).index;
      } catch {
        index = undefined;
      }
      if (typeof index !== 'number') throw new RefusedError(`${target}: unexpected answer ${JSON.stringify(body.slice(0, 100))}`);
      process.stdout.write(`${/"index":\s*([0-9]+)/.exec(body)?.[1] ?? index}\n`);
    });

  log
    .command('proof')
    .description("write a c2sp.org/tlog-proof@v1 for an entry of a local (tlog-tiles) log: its served checkpoint, with the witnesses' cosignatures, and the inclusion proof from its tiles")
    .requiredOption('--url <url>', "the log's base URL")
    .requiredOption('--index <n>', 'the entry index')
    .option('--cosignatures <k>', 'wait until the served checkpoint includes the entry and carries at least K cosignature lines', '0')
    .option('--timeout <duration>', 'how long to wait for that (e.g. 30s)', '30s')
    .option('--extra <base64>', "opaque extra data for the proof's `extra` line (not authenticated)")
    .option('--out <file>', 'write the proof here (default: stdout)')
    .addHelpText('after', '\nPrints the leaf hash (base64) on stderr, for `gossip-witness verify --proof FILE --leaf-hash B64`.')
    .action(async (opts: { url: string; index: string; cosignatures: string; timeout: string; extra?: string; out?: string }) => {
      const index = parseTreeSize(opts.index);
      if (index === null) throw new UsageError(`--index must be a decimal entry index, got ${JSON.stringify(opts.index)}`);
      if (!/^[0-9]{1,3}$/.test(opts.cosignatures)) throw new UsageError('--cosignatures must be a small whole number');
      const wantCosigs = Number(opts.cosignatures);
      const timeout = parseDuration(opts.timeout);
      if (timeout === null) throw new UsageError(`--timeout must be a duration (e.g. 30s), got ${JSON.stringify(opts.timeout)}`);
      let extra: Uint8Array | undefined;
      if (opts.extra !== undefined) {
        const b = decodeBase64(opts.extra);
        if (b === null || encodeBase64(b) !== opts.extra) throw new UsageError('--extra must be canonical padded base64');
        extra = b;
      }
      let base: URL;
      try {
        base = new URL(opts.url);
      } catch {
        throw new UsageError(`--url is not a URL: ${JSON.stringify(opts.url)}`);
      }
      if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(opts.url)}`);
      const prefix = base.href.replace(/\/+$/, '');
      const get = async (path: string, max: number): Promise<Uint8Array> => {
        let res: Response;
        try {
          res = await fetch(`${prefix}/${path}`, { signal: AbortSignal.timeout(30_000) });
        } catch (e) {
          const err = e as Error;
          throw new NetworkError(`cannot reach ${prefix}/${path}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
        }
        const body = new Uint8Array(await res.arrayBuffer());
        if (res.status !== 200) throw new RefusedError(`${prefix}/${path}: HTTP ${res.status}`);
        if (body.length > max) throw new BadInputError(`${prefix}/${path}: larger than ${max} bytes`);
        return body;
      };
      // The served checkpoint: wait (with a deadline) until it covers the entry and carries enough cosignatures.
      const deadline = Date.now() + timeout;
      let note: string;
      let checkpoint;
      for (;;) {
        const bytes = await get('checkpoint', 2_000_000);
        let parsed;
        try {
          parsed = parseNote(bytes);
          checkpoint = parseCheckpoint(parsed.text);
        } catch (e) {
          throw new BadInputError(`${prefix}/checkpoint is not a checkpoint note: ${(e as Error).message}`);
        }
        note = new TextDecoder().decode(bytes);
        const cosigs = parsed.signatures.length - 1;
        if (checkpoint.size > index && cosigs >= wantCosigs) break;
        if (Date.now() >= deadline) {
          throw new RefusedError(
            checkpoint.size <= index
              ? `entry ${index} is not in the log's checkpoint (size ${checkpoint.size}) after ${opts.timeout}`
              : `the log's checkpoint carries ${cosigs} cosignature line(s), fewer than --cosignatures ${wantCosigs}, after ${opts.timeout}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const size = checkpoint.size;
      const fetchTile = (level: number, n: bigint, width: number) => get(tilePath(level, n, width), 32 * 256);
      const hasher = tileSubtreeHasher(size, fetchTile);
      const hashes = await inclusionProofAsync(index, size, hasher);
      const leafHash = await hasher(index, index + 1n);
      if (!verifyInclusion(index, size, leafHash, hashes, checkpoint.root)) {
        throw new RefusedError(`the log's tiles do not lead to its checkpoint's root at size ${size}: not writing a proof`);
      }
      const proof = formatTlogProof({ index, hashes, checkpoint: note, ...(extra !== undefined ? { extra } : {}) });
      if (opts.out !== undefined) {
        try {
          writeFileSync(opts.out, proof, { flag: 'wx' });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${opts.out} already exists (refusing to overwrite it)`);
          throw new UsageError(`cannot write ${opts.out}: ${(e as Error).message}`);
        }
      } else process.stdout.write(proof);
      process.stderr.write(`log proof: index ${index} in ${checkpoint.origin} at size ${size}; leaf hash ${encodeBase64(leafHash)}\n`);
    });
}
