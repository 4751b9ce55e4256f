// Starts a local network on 127.0.0.1 from one network config (src/launcher/network.ts): the
// local log(s) in this process, each witness as a child process running `gossip-witness serve`,
// keys and configs generated into a temporary directory. Used by the tests, the demo and the
// simulator's live mode. See docs/gossip.md#launcher.
//
//   const net = await launch({ network: parseNetworkConfig(yaml) });
//   net.logs.get('log1')!.log.append(['x']);   // the LocalLog handle
//   net.witnesses[0].url;                       // http://127.0.0.1:PORT
//   await net.stop();                           // SIGTERM every process, stop the logs, remove the dir
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Ed25519SignerKey } from '../note/keys.js';
import { loadOrCreateKeyFile, loadOrCreateMlDsa44KeyFile, readWitnessKeyFile, witnessVkey, type WitnessKey } from '../keys/keyfile.js';
import type { MlDsa44Key } from '../note/mldsa-keys.js';
import { startLocalLog, type LocalLog } from '../logs/local-log/index.js';
import { loadOrCreatePeerKey } from '../gossip/host.js';
import { identityFileFor } from '../gossip/service.js';
import { witnessKeyTypes, type NetworkConfig, type NetworkWitness, type WitnessKeyType } from './network.js';
import { EXIT_WITH_STDIN_ENV } from '../cli/shutdown.js';
import { freePort } from '../util/ports.js';

export { freePort };

export const FORK_HEADER = 'X-Fork-Branch';
const START_DEADLINE_MS = 30_000;
const STOP_DEADLINE_MS = 10_000;

export interface LaunchOptions {
  readonly network: NetworkConfig;
  /** Where keys, configs and data go (default: a new temporary directory, removed by stop()). */
  readonly dir?: string;
  /** The command that runs the CLI (default: tsx on src/cli/main.ts when running from source, else bin/gossip-witness.js). */
  readonly command?: readonly string[];
  readonly logLevel?: string;
  /** Every stdout line of every witness (pino JSON). */
  readonly onLine?: (witness: string, line: string) => void;
  /**
   * Where a witness runs (default 127.0.0.1, this network namespace): the address it listens on
   * (HTTP and libp2p) and a command prefix, e.g. ['ip', 'netns', 'exec', 'ns0'] (test/gossip/netns.test.ts);
   * `announce`: the host peers dial for its libp2p port instead (p2p.announce), e.g. a delaying relay (scripts/wan-netns.ts).
   */
  readonly placement?: (witness: string) => { host: string; prefix?: readonly string[]; announce?: string };
  /** The address the logs (and branch proxies) listen on (default 127.0.0.1). */
  readonly logHost?: string;
  /** Witnesses started at once, in config order (default all): tens of processes starting together on a small machine can miss the start deadline. */
  readonly startConcurrency?: number;
}

export interface LaunchedWitness {
  readonly name: string;
  /** The cosigning key's name (every key of a witness carries it; key IDs tell them apart). */
  readonly keyName: string;
  readonly url: string;
  /** Its first key's vkey (vkeys[0]): cosignature/v1 (0x04), or ML-DSA-44 (0x06). */
  readonly vkey: string;
  /**
   * Every key's vkey, in the network file's keyType order: one per key, and add-checkpoint
   * answers one cosignature line per key. A client counting this witness lists them as one
   * 1-of-n group (clientPolicy()), never as separate witnesses.
   */
  readonly vkeys: readonly string[];
  readonly peerId: string;
  /** /ip4/127.0.0.1/tcp/PORT/p2p/ID */
  readonly p2pAddr: string;
  readonly configFile: string;
  readonly dataDir: string;
  /** Parsed JSON log lines so far. */
  readonly lines: Record<string, unknown>[];
  readonly process: ChildProcess | undefined;
  readonly running: boolean;
  /** SIGTERM and wait (SIGKILL after a deadline). */
  stop(): Promise<void>;
  /** Starts the process again on the same config and data. */
  start(): Promise<void>;
}

export interface LaunchedLog {
  readonly name: string;
  readonly origin: string;
  readonly url: string;
  readonly vkey: string;
  readonly log: LocalLog;
}

export interface LaunchedNetwork {
  readonly dir: string;
  readonly logs: ReadonlyMap<string, LaunchedLog>;
  readonly witnesses: readonly LaunchedWitness[];
  witness(name: string): LaunchedWitness;
  stop(): Promise<void>;
}

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  throw new Error('cannot find the gossip-witness package root');
}

function defaultCommand(root: string): string[] {
  const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
  // tsx/esm: ESM hooks only. tsx's require() hook cannot resolve import-only packages
  // (protons-runtime under @libp2p/peer-id, which src/config.ts require()s); Node's own require can.
  return fromSource ? [process.execPath, '--import', 'tsx/esm', join(root, 'src/cli/main.ts')] : [process.execPath, join(root, 'bin/gossip-witness.js')];
}

/** An HTTP proxy to the log that asks for branch b (for a pulling witness that the log deceives). */
export async function branchProxy(target: string, branch: 'a' | 'b', port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createHttpServer((req, res) => {
    void (async () => {
      try {
        const r = await fetch(target + (req.url ?? '/'), { method: req.method, headers: { [FORK_HEADER]: branch }, signal: AbortSignal.timeout(10_000) });
        const body = new Uint8Array(await r.arrayBuffer());
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream', 'content-length': body.length });
        res.end(body);
      } catch {
        res.writeHead(502).end();
      }
    })();
  });
  await new Promise<void>((res) => server.listen(port, host, () => res()));
  return server;
}

interface Plan {
  w: NetworkWitness;
  /** The address others use to reach it (an IP, or a compose service name). */
  host: string;
  prefix: readonly string[];
  /** The host peers dial for its libp2p port when not `host` (p2p.announce). */
  announce?: string;
  /** Its first key (keys[0]): Ed25519 (cosignature/v1), or ML-DSA-44 (0x06 cosignatures) for keyType ml-dsa-44. */
  key: WitnessKey;
  /** keys[0]'s vkey (0x04 or 0x06). */
  vkey: string;
  /** Every key, in keyType order (one for a single keyType; one per type for a list). */
  keys: readonly WitnessKey[];
  /** Their vkeys, in the same order: what its cosignature lines verify under. */
  vkeys: readonly string[];
  /** Their key files (absolute), in the same order: the witness config's `key:`. */
  keyFiles: readonly string[];
  httpPort: number;
  p2pPort: number;
  peerId: string;
  dataDir: string;
  configFile: string;
}

/**
 * Where the processes run. 'local': every process on this machine (127.0.0.1 unless placed
 * elsewhere), free ports. 'compose': each log and witness is a container whose hostname is its
 * name (docker-compose.yml), listening on 0.0.0.0 at fixed ports; peers are dialled by DNS name.
 */
export type Layout = 'local' | 'compose';

/** The fixed ports inside a compose container. */
export const COMPOSE_PORTS = { witnessHttp: 7380, witnessP2p: 7381, log: 7390 } as const;

export interface PrepareOptions {
  readonly network: NetworkConfig;
  readonly dir: string;
  readonly layout?: Layout;
  readonly placement?: LaunchOptions['placement'];
  readonly logHost?: string;
}

export interface PreparedLog {
  readonly name: string;
  readonly origin: string;
  /** Ed25519, or ML-DSA-44 for a log with keyType ml-dsa-44 (0x06 log signatures). */
  readonly key: Ed25519SignerKey | MlDsa44Key;
  /** <dir>/<log>/log.key */
  readonly keyFile: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly forkAt?: bigint;
  /** Witnesses this log pushes to, with the branch each one is shown; vkey is vkeys[0], vkeys every key of the witness. */
  readonly pushTo: readonly { readonly witness: string; readonly url: string; readonly vkey: string; readonly vkeys: readonly string[]; readonly branch: 'a' | 'b' }[];
}

export interface PreparedNetwork {
  readonly dir: string;
  readonly layout: Layout;
  readonly logs: readonly PreparedLog[];
  readonly witnesses: readonly (Plan & { readonly name: string; readonly p2pAddr: string; readonly url: string })[];
  /** Branch proxies the launcher must start (local layout only): a pulling witness shown branch b. */
  readonly proxies: readonly { readonly target: string; readonly port: number; readonly host: string }[];
}

/** The key file of each extra key of a witness with several key types (witness.key holds one of them). */
const EXTRA_KEY_FILE: Readonly<Record<WitnessKeyType, string>> = { ed25519: 'witness-ed25519.key', 'ml-dsa-44': 'witness-pq.key' };

/**
 * The key file of each key type of a witness, in keyType order, relative to its folder. One type:
 * witness.key, as always. Several: witness.key keeps the key it already holds when its type is
 * listed (so a witness that gains a second type keeps its first key and identity), else it gets
 * the first listed type; each other type gets its own file (witness-pq.key for ML-DSA-44,
 * witness-ed25519.key for Ed25519).
 */
export function witnessKeyFiles(home: string, types: readonly WitnessKeyType[]): { type: WitnessKeyType; file: string }[] {
  if (types.length === 1) return [{ type: types[0], file: 'witness.key' }];
  let primary = types[0];
  const main = join(home, 'witness.key');
  if (existsSync(main)) {
    const held: WitnessKeyType = 'cosignatureVkey' in readWitnessKeyFile(main) ? 'ed25519' : 'ml-dsa-44';
    if (types.includes(held)) primary = held;
  }
  return types.map((type) => ({ type, file: type === primary ? 'witness.key' : EXTRA_KEY_FILE[type] }));
}

/**
 * Writes every key (kept when it already exists: a second run reuses them), libp2p identity and
 * witness config of a network into dir: <dir>/<log>/log.key, <dir>/<witness>/{witness.key,
 * witness.yaml, data/p2p-identity.key}, and for a witness with a list of key types one key file
 * per type (witnessKeyFiles(): witness.key and witness-pq.key or witness-ed25519.key). Starts
 * nothing. `gossip-witness launch --prepare compose` runs this as the compose topology's init
 * step, so compose and the launcher use one generator.
 */
export async function prepareNetwork(opts: PrepareOptions): Promise<PreparedNetwork> {
  const { network, dir } = opts;
  const layout = opts.layout ?? 'local';
  const compose = layout === 'compose';
  mkdirSync(dir, { recursive: true });
  const logs: PreparedLog[] = [];
  const logHostOf = (name: string) => (compose ? name : (opts.logHost ?? '127.0.0.1'));
  const logPorts = new Map<string, number>();
  for (const l of network.logs) logPorts.set(l.name, compose ? COMPOSE_PORTS.log : await freePort());
  const logUrl = (name: string) => `http://${logHostOf(name)}:${logPorts.get(name)}`;
  const logKeys = new Map<string, { key: Ed25519SignerKey | MlDsa44Key; keyFile: string }>();
  for (const l of network.logs) {
    mkdirSync(join(dir, l.name), { recursive: true });
    const keyFile = join(dir, l.name, 'log.key');
    const key = l.keyType === 'ml-dsa-44' ? loadOrCreateMlDsa44KeyFile(keyFile, logKeyName(l.origin)).key : loadOrCreateKeyFile(keyFile, logKeyName(l.origin)).key;
    logKeys.set(l.name, { key, keyFile });
  }
  const plans: Plan[] = [];
  for (const w of network.witnesses) {
    const dataDir = join(dir, w.name, 'data');
    mkdirSync(dataDir, { recursive: true });
    const keyName = `${w.name}.example.local`;
    const files = witnessKeyFiles(join(dir, w.name), witnessKeyTypes(w));
    const keyFiles = files.map((f) => join(dir, w.name, f.file));
    const keys: WitnessKey[] = files.map((f, j) => (f.type === 'ml-dsa-44' ? loadOrCreateMlDsa44KeyFile(keyFiles[j], keyName).key : loadOrCreateKeyFile(keyFiles[j], keyName).key));
    const vkeys = keys.map(witnessVkey);
    const { key: pk } = await loadOrCreatePeerKey(identityFileFor(dataDir));
    const place: { host: string; prefix?: readonly string[]; announce?: string } = compose ? { host: w.name } : (opts.placement?.(w.name) ?? { host: '127.0.0.1' });
    const httpPort = compose ? COMPOSE_PORTS.witnessHttp : w.httpPort || (await freePort());
    const p2pPort = compose ? COMPOSE_PORTS.witnessP2p : w.p2pPort || (await freePort());
    plans.push({ w, host: place.host, prefix: place.prefix ?? [], ...(place.announce ? { announce: place.announce } : {}), key: keys[0], vkey: vkeys[0], keys, vkeys, keyFiles, httpPort, p2pPort, peerId: peerIdFromPrivateKey(pk).toString(), dataDir, configFile: join(dir, w.name, 'witness.yaml') });
  }
  const addrOf = (p: Plan) => `/${compose ? 'dns4' : 'ip4'}/${p.announce ?? p.host}/tcp/${p.p2pPort}/p2p/${p.peerId}`;
  const listenHost = (p: Plan) => (compose ? '0.0.0.0' : p.host);
  const proxies: { target: string; port: number; host: string }[] = [];
  for (const [i, p] of plans.entries()) {
    const { w } = p;
    const logLines: string[] = [];
    for (const ln of w.logs) {
      const l = network.logs.find((x) => x.name === ln)!;
      logLines.push(`  - origin: ${JSON.stringify(l.origin)}\n    vkeys: [${JSON.stringify(logKeys.get(ln)!.key.vkey)}]\n`);
      if (w.pull.includes(ln)) {
        let url = logUrl(ln);
        const branch = w.sees[ln] ?? 'a';
        if (branch === 'b') {
          // The log shows branch b by a request header; only a proxy in front of it can add one.
          if (compose) throw new Error(`witness ${w.name} pulls ${ln} and is shown branch b: not supported in the compose layout (let the log push to it)`);
          const host = opts.logHost ?? '127.0.0.1';
          const port = await freePort();
          proxies.push({ target: url, port, host });
          url = `http://${host}:${port}`;
        }
        logLines.push(`    pull: { type: tiles, url: "${url}/", interval: ${w.pullIntervalMs}ms, timeout: 2s, maxBackoff: 1s }\n`);
      }
    }
    const tracked = plans.filter((o) => o !== p && (w.tracks ? w.tracks.includes(o.w.name) : true));
    const boot = (w.bootstrap ? plans.filter((o) => w.bootstrap!.includes(o.w.name)) : [plans[0], plans[i - 1]].filter((o) => o && o !== p)).filter((o, k, a) => a.indexOf(o) === k);
    const yaml =
      `# Generated by gossip-witness (src/launcher/launcher.ts, layout ${layout}) from the network config; rewritten on every start.\n` +
      `name: ${p.key.name}\nkey: ${keyList(p)}\ndata: data\nhttp: { listen: "${listenHost(p)}:${p.httpPort}" }\n` +
      `logs:\n${logLines.join('')}` +
      // Every key of each tracked witness (a witness with two keys is two entries of one name).
      (tracked.length > 0 ? `witnesses:\n${tracked.flatMap((o) => o.vkeys.map((v) => `  - { name: ${o.w.name}, vkey: ${JSON.stringify(v)} }\n`)).join('')}` : '') +
      `p2p:\n  listen: [/ip4/${listenHost(p)}/tcp/${p.p2pPort}]\n  allowLoopback: ${p.host.startsWith('127.')}\n${p.announce ? `  announce: [/ip4/${p.announce}/tcp/${p.p2pPort}]\n` : ''}  startupSync: 2s\n  bootstrap: [${boot.map(addrOf).join(', ')}]\n` +
      (w.gossip?.version !== undefined ? `  version: ${w.gossip.version}\n` : '') +
      (w.gossip?.meshDegree !== undefined ? `  meshDegree: ${w.gossip.meshDegree}\n` : '');
    writeFileSync(p.configFile, yaml);
  }
  for (const l of network.logs) {
    const { key, keyFile } = logKeys.get(l.name)!;
    const pushTo = plans
      .filter((p) => p.w.push.includes(l.name))
      .map((p) => ({ witness: p.w.name, url: `http://${p.host}:${p.httpPort}`, vkey: p.vkey, vkeys: p.vkeys, branch: p.w.sees[l.name] ?? ('a' as const) }));
    logs.push({ name: l.name, origin: l.origin, key, keyFile, host: compose ? '0.0.0.0' : logHostOf(l.name), port: logPorts.get(l.name)!, url: logUrl(l.name), ...(l.forkAt !== undefined ? { forkAt: l.forkAt } : {}), pushTo });
  }
  return { dir, layout, logs, witnesses: plans.map((p) => ({ ...p, name: p.w.name, p2pAddr: addrOf(p), url: `http://${p.host}:${p.httpPort}` })), proxies };
}

/** The witness config's `key:`: one file name, or a list of them (one per key type). */
function keyList(p: Plan): string {
  const names = p.keyFiles.map((f) => basename(f));
  return names.length === 1 ? names[0] : `[${names.join(', ')}]`;
}

/** The log's key name: its origin, with characters a key name cannot hold replaced. */
export function logKeyName(origin: string): string {
  return origin.replace(/[^A-Za-z0-9./_-]/g, '_');
}

export async function launch(opts: LaunchOptions): Promise<LaunchedNetwork> {
  const { network } = opts;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gw-net-'));
  mkdirSync(dir, { recursive: true });
  const root = repoRoot();
  const command = opts.command ?? defaultCommand(root);
  const servers: Server[] = [];
  const logs = new Map<string, LaunchedLog>();
  const witnesses: LaunchedWitness[] = [];
  const stopAll = async () => {
    await Promise.allSettled(witnesses.map((w) => w.stop()));
    await Promise.allSettled([...logs.values()].map((l) => l.log.stop()));
    await Promise.allSettled(servers.map((s) => new Promise((r) => s.close(r))));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const prepared = await prepareNetwork({ network, dir, ...(opts.placement ? { placement: opts.placement } : {}), ...(opts.logHost !== undefined ? { logHost: opts.logHost } : {}) });
    for (const x of prepared.proxies) servers.push(await branchProxy(x.target, 'b', x.port, x.host));
    for (const p of prepared.witnesses) witnesses.push(makeWitness(p, p.p2pAddr, command, root, opts));
    const batch = Math.max(1, opts.startConcurrency ?? witnesses.length);
    for (let i = 0; i < witnesses.length; i += batch) await Promise.all(witnesses.slice(i, i + batch).map((w) => w.start()));
    // The logs last: their first pushes find every witness listening.
    for (const l of prepared.logs) {
      const log = await startLocalLog({
        origin: l.origin,
        key: l.key,
        host: l.host,
        port: l.port,
        intervalMs: network.logs.find((x) => x.name === l.name)!.intervalMs,
        // A witness with several keys answers a line per key: the log keeps those that verify under one of them.
        witnesses: l.pushTo.map((p) => ({ url: p.url, vkey: p.vkey, vkeys: p.vkeys, branch: p.branch })),
        ...(l.forkAt !== undefined ? { forkAt: l.forkAt, forkHeader: FORK_HEADER } : {}),
      });
      logs.set(l.name, { name: l.name, origin: l.origin, url: log.url, vkey: log.vkey, log });
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  let stopping: Promise<void> | undefined;
  return {
    dir,
    logs,
    witnesses,
    witness(name) {
      const w = witnesses.find((x) => x.name === name);
      if (!w) throw new Error(`no witness ${name}`);
      return w;
    },
    stop: () => (stopping ??= stopAll()),
  };
}

function makeWitness(p: Plan, p2pAddr: string, command: readonly string[], root: string, opts: LaunchOptions): LaunchedWitness {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const lines: Record<string, unknown>[] = [];
  const w: LaunchedWitness = {
    name: p.w.name,
    keyName: p.key.name,
    url: `http://${p.host}:${p.httpPort}`,
    vkey: p.vkey,
    vkeys: p.vkeys,
    peerId: p.peerId,
    p2pAddr,
    configFile: p.configFile,
    dataDir: p.dataDir,
    lines,
    get process() {
      return child;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (w.running) return;
      const argv = [...p.prefix, ...command];
      const c = spawn(argv[0], [...argv.slice(1), 'serve', '--config', p.configFile, '--log-level', opts.logLevel ?? 'info'], {
        cwd: root,
        // stdin stays open while this process lives: a launcher or test killed outright takes its witnesses with it.
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, [EXIT_WITH_STDIN_ENV]: '1' },
      });
      child = c;
      exited = new Promise((res) => c.once('exit', () => res()));
      let partial = '';
      let stderr = '';
      c.stdout!.setEncoding('utf8').on('data', (d: string) => {
        const parts = (partial + d).split('\n');
        partial = parts.pop()!;
        for (const line of parts) {
          opts.onLine?.(p.w.name, line);
          try {
            lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not JSON
          }
        }
      });
      c.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 10_000)));
      const deadline = Date.now() + START_DEADLINE_MS;
      const seen = lines.length;
      for (;;) {
        if (lines.slice(seen).some((l) => l.msg === 'witness listening')) return;
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`witness ${p.w.name} exited during startup: ${stderr.trim()}`);
        if (Date.now() > deadline) {
          c.kill('SIGKILL');
          throw new Error(`witness ${p.w.name} did not start within ${START_DEADLINE_MS} ms: ${stderr.trim()}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      const c = child;
      if (!c || !w.running) return;
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), STOP_DEADLINE_MS);
      await exited;
      clearTimeout(t);
    },
  };
  return w;
}
