// Crash-safety driver: runs `gossip-witness serve` as a child process on a LevelDB data
// directory, drives a concurrent, adversarial add-checkpoint load at it over HTTP, SIGKILLs the
// process at random points and restarts it on the same config and data, and checks after every
// restart (and at the end) that:
//
//   1. the stored size (monitoring GET /<hex sha256(origin)>/checkpoint, the latest cosigned
//      checkpoint) is at least every size any client was given a cosignature for (a 200), and
//      the stored root is consistent with every cosigned (size, root): it is the root of the
//      same tree (the test logs are honest per branch, so consistent means equal prefix roots);
//   2. no two cosignatures returned for one origin are for inconsistent trees.
//
// Load: several honest logs, two clients each (the same tree, racing on the same old size),
// plus one FORKING log: several clients holding the log's one key, each building its own branch
// on top of the size the witness holds and racing the others from the same old size with valid
// proofs. A witness that broke the compare-and-set (or lost state across a crash) would cosign
// two branches; every 200 is verified against the witness's cosignature vkey and recorded, and
// two 200s on diverging branches are reported as a violation. The forking clients also send
// checkpoints from branches that diverge BELOW the stored size (same size/different root, and
// larger size with a proof from their own branch): those must be refused (422, or 409).
//
// Used by test/witness/crash.test.ts (50+ restarts in `npm test`) and bench/crash.bench.ts
// (1,000 restarts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { consistencyProof, rootFromHasher, largestPowerOfTwoBelow, type SubtreeHasher } from '../../src/merkle/proof.js';
import { hashChildren, hashLeaf, treeHash } from '../../src/merkle/hash.js';
import { formatCheckpoint, originHash, parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { generateKey, openNote, parseCosignatureVkey, parseVkey, signNote, VerifierSet, type Ed25519SignerKey } from '../../src/note/index.js';
import { equalBytes } from '../../src/util/bytes.js';
import { generateMlDsa44Key } from '../../src/note/mldsa-keys.js';
import { writeKeyFile } from '../../src/keys/keyfile.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const START_DEADLINE_MS = 30_000;
const ROUND_DEADLINE_MS = 30_000;

/** tsx: the sources; dist: tsc's output; bin: the installed command (bin/gossip-witness.js, the bundle in dist/bin). */
export type Runner = 'tsx' | 'dist' | 'bin';

export interface CrashOptions {
  /** Number of SIGKILLs (each followed by a restart and a check). */
  restarts: number;
  /** Seed for the random choices (kill points, request mix). Printed in failures. */
  seed?: number;
  /** How the serve child runs: `node --import tsx src/cli/main.ts` (default) or `node dist/src/cli/main.js`. */
  runner?: Runner;
  /** Honest logs (two clients each). Default 3. */
  honestLogs?: number;
  /** Clients racing on the forking log. Default 3. */
  forkClients?: number;
  /** Kill after a random number of responses in [1, maxResponsesPerRound] (this round). Default 40. */
  maxResponsesPerRound?: number;
  /** Base directory for config and data (default: a fresh temp dir, removed at the end). */
  dir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * Also give the witness an ML-DSA-44 key (`key: [witness.key, witness-pq.key]`, issue 14): every
   * 200 must then carry one verifying line per key, and the stored note both lines.
   */
  mlDsaKey?: boolean;
}

export interface CrashReport {
  seed: number;
  restarts: number;
  runner: Runner;
  totalMs: number;
  /** Spawn to "witness listening", per start. */
  startupMs: number[];
  requests: number;
  statuses: Record<string, number>;
  /** 200s whose cosignature verified (all of them, or there is a violation). */
  cosignaturesVerified: number;
  /** Requests that were in flight when the process was killed (outcome unknown to the client). */
  inFlightAtKill: number;
  /** Restarts after which the stored size was beyond every 200 (written, answer lost in the kill). */
  storedAheadOfAnswers: number;
  /** Forking log: races won (a branch adopted) and race requests refused with 409. */
  forkRacesWon: number;
  forkRaceLosses: number;
  /** Forking log: checkpoints from a diverging branch, all refused (422 or 409). */
  conflictsRefused: number;
  /** Final stored size per origin. */
  finalSizes: Record<string, string>;
  violations: string[];
}

// ---------------------------------------------------------------------------------------------
// small utilities

function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const b64 = (h: Uint8Array): string => Buffer.from(h).toString('base64');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function body(old: bigint, proof: Uint8Array[], note: string): string {
  return `old ${old}\n${proof.map((h) => b64(h) + '\n').join('')}\n${note}`;
}

/** The note text (up to and including the line before the blank line). */
function noteText(note: string): string {
  return note.slice(0, note.indexOf('\n\n') + 1);
}

// ---------------------------------------------------------------------------------------------
// the serve child

const children = new Set<ChildProcess>();

/** SIGKILLs every serve child the driver started and that is still running. */
export function killAllChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

export function serveArgs(runner: Runner, config: string, logLevel = 'info'): string[] {
  const entry = runner === 'dist' ? ['dist/src/cli/main.js'] : runner === 'bin' ? ['bin/gossip-witness.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
  return [...entry, 'serve', '--config', config, '--log-level', logLevel];
}

/** True when dist/ holds a build at least as new as every file under src/. */
export function distIsFresh(): boolean {
  const newest = (dir: string, ext: string): number => {
    let m = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) m = Math.max(m, newest(p, ext));
      else if (e.name.endsWith(ext)) m = Math.max(m, statSync(p).mtimeMs);
    }
    return m;
  };
  const main = join(ROOT, 'dist/src/cli/main.js');
  if (!existsSync(main)) return false;
  const srcNewest = newest(join(ROOT, 'src'), '.ts');
  // Every .ts must have a .js at least as new.
  const check = (dir: string): boolean => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!check(p)) return false;
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
        const js = join(ROOT, 'dist', p.slice(ROOT.length).replace(/\.ts$/, '.js'));
        if (!existsSync(js) || statSync(js).mtimeMs < statSync(p).mtimeMs) return false;
      }
    }
    return true;
  };
  const bundle = join(ROOT, 'dist/bin/main.js');
  const bundleFresh = existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(main).mtimeMs;
  return srcNewest > 0 && bundleFresh && check(join(ROOT, 'src'));
}

export interface ServeChild {
  child: ChildProcess;
  pid: number;
  url: string;
  vkeys: string[];
  startupMs: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/**
 * Spawns `serve` and waits (bounded) for its "witness listening" line. `node` is the runtime
 * (default: this process's), `env` is added to this process's environment.
 */
export async function startServe(
  runner: Runner,
  config: string,
  opts: { logLevel?: string; nodeArgs?: string[]; node?: string; env?: Record<string, string> } = {},
): Promise<ServeChild> {
  const t0 = performance.now();
  const child = spawn(opts.node ?? process.execPath, [...(opts.nodeArgs ?? []), ...serveArgs(runner, config, opts.logLevel)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      res({ code, signal });
    }),
  );
  // Keep a bounded tail of the output for diagnostics; the pipe must always be drained.
  let tail = '';
  const keep = (d: string) => {
    tail = (tail + d).slice(-8000);
  };
  let partial = '';
  const listening = new Promise<{ url: string; vkeys: string[] }>((res, rej) => {
    let found = false;
    const timer = setTimeout(() => rej(new Error(`serve: no "witness listening" line within ${START_DEADLINE_MS} ms: ${tail}`)), START_DEADLINE_MS);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      keep(d);
      if (found) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.includes('witness listening')) continue;
        try {
          const o = JSON.parse(line) as { msg?: string; url?: string; vkeys?: string[] };
          if (o.msg === 'witness listening' && o.url && o.vkeys) {
            found = true;
            partial = '';
            clearTimeout(timer);
            res({ url: o.url, vkeys: o.vkeys });
            return;
          }
        } catch {
          // not JSON
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!found) rej(new Error(`serve exited (code ${code}, signal ${signal}) before listening: ${tail}`));
    });
  });
  child.stderr!.setEncoding('utf8').on('data', keep);
  try {
    const { url, vkeys } = await listening;
    return { child, pid: child.pid!, url, vkeys, startupMs: performance.now() - t0, exited, output: () => tail };
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// logs

interface Cosigned {
  size: bigint;
  root: Uint8Array;
}

interface HonestLog {
  kind: 'honest';
  origin: string;
  key: Ed25519SignerKey;
  tree: MemoryTree;
  /** The largest size this driver knows the witness holds. */
  known: bigint;
  cosigned: Cosigned[];
  checkedUpTo: number;
  lastStored: Cosigned | undefined;
}

/** A branch of the forking log: the trunk's first `base` leaves, then its own leaves. */
interface Candidate {
  base: bigint;
  leaves: Uint8Array[];
  size: bigint;
  root: Uint8Array;
  hasher: SubtreeHasher;
  adopted: boolean;
  /** A race candidate (from the trunk's size) may be adopted; a conflict candidate never. */
  race: boolean;
}

interface ForkLog {
  kind: 'fork';
  origin: string;
  key: Ed25519SignerKey;
  /** The branch the witness has accepted so far (every adopted candidate's leaves). */
  trunk: MemoryTree;
  /** Race candidates built on the trunk's current size, not yet adopted. */
  pending: Candidate[];
  cosigned: Cosigned[];
  checkedUpTo: number;
  lastStored: Cosigned | undefined;
  tag: number;
}

type AnyLog = HonestLog | ForkLog;

function candidate(trunk: MemoryTree, base: bigint, leaves: Uint8Array[], race: boolean): Candidate {
  const rec: SubtreeHasher = (a, b) => {
    if (b <= base) return trunk.subtreeHash(a, b);
    if (a >= base) return treeHash(leaves.slice(Number(a - base), Number(b - base)));
    const k = largestPowerOfTwoBelow(b - a);
    return hashChildren(rec(a, a + k), rec(a + k, b));
  };
  const size = base + BigInt(leaves.length);
  return { base, leaves, size, root: rootFromHasher(size, rec), hasher: rec, adopted: false, race };
}

function adopt(log: ForkLog, c: Candidate): void {
  if (log.trunk.size !== c.base) throw new Error('adopt: trunk moved');
  for (const l of c.leaves) log.trunk.appendLeafHash(l);
  c.adopted = true;
  log.pending = [];
}

// ---------------------------------------------------------------------------------------------
// the scenario

export async function runCrashScenario(opts: CrashOptions): Promise<CrashReport> {
  const seed = (opts.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  const rnd = prng(seed);
  const runner = opts.runner ?? 'tsx';
  const say = opts.log ?? (() => {});
  const maxResp = Math.max(1, opts.maxResponsesPerRound ?? 40);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gw-crash-'));
  const t0 = performance.now();

  const report: CrashReport = {
    seed,
    restarts: 0,
    runner,
    totalMs: 0,
    startupMs: [],
    requests: 0,
    statuses: {},
    cosignaturesVerified: 0,
    inFlightAtKill: 0,
    storedAheadOfAnswers: 0,
    forkRacesWon: 0,
    forkRaceLosses: 0,
    conflictsRefused: 0,
    finalSizes: {},
    violations: [],
  };
  const violation = (msg: string) => {
    if (report.violations.length < 50) report.violations.push(msg);
  };

  // Logs: honest ones start with a few leaves; the forking log starts empty (its first race is
  // from old 0).
  const logs: AnyLog[] = [];
  for (let i = 0; i < (opts.honestLogs ?? 3); i++) {
    const origin = `crash.example/honest-${i}`;
    const tree = new MemoryTree();
    for (let j = 0; j < 8; j++) tree.append(utf8(`${origin} leaf ${j}`));
    logs.push({ kind: 'honest', origin, key: generateKey(origin), tree, known: 0n, cosigned: [], checkedUpTo: 0, lastStored: undefined });
  }
  const forkOrigin = 'crash.example/forking';
  const fork: ForkLog = { kind: 'fork', origin: forkOrigin, key: generateKey(forkOrigin), trunk: new MemoryTree(), pending: [], cosigned: [], checkedUpTo: 0, lastStored: undefined, tag: 0 };
  logs.push(fork);

  const config = join(dir, 'witness.yaml');
  // The ML-DSA-44 key file is made beforehand (as `keygen --type ml-dsa-44` does); witness.key is created by serve.
  if (opts.mlDsaKey && !existsSync(join(dir, 'witness-pq.key'))) writeKeyFile(join(dir, 'witness-pq.key'), generateMlDsa44Key('crash.example/witness'));
  writeFileSync(
    config,
    `name: crash.example/witness
key: ${opts.mlDsaKey ? '[witness.key, witness-pq.key]' : 'witness.key'}
data: witness-data
http: { listen: "127.0.0.1:0" }
logs:
${logs.map((l) => `  - { origin: "${l.origin}", vkeys: [ "${l.key.vkey}" ] }`).join('\n')}
`,
  );

  let witnessVerifiers: VerifierSet | undefined;
  let firstVkeys: string[] | undefined;

  // Server generation: clients wait on `gate` (resolves to the current URL); the controller
  // replaces it (closed) right before each kill.
  let gate = deferred<string>();
  let generation = 0;
  let alive = false;
  let stopping = false;
  let roundResponses = 0;
  let roundWaiter: (() => void) | undefined;

  const count = (status: number | string) => {
    report.statuses[status] = (report.statuses[status] ?? 0) + 1;
  };

  /** Verifies a 200's cosignature lines over the checkpoint text we sent; records (size, root). */
  const acceptCosignature = (log: AnyLog, note: string, lines: string, size: bigint, root: Uint8Array): boolean => {
    const text = noteText(note);
    const nLines = lines.split('\n').filter((l) => l !== '').length;
    try {
      const opened = openNote(text + '\n' + lines, witnessVerifiers!);
      if (opened.verified.length !== nLines || opened.unverified.length !== 0) throw new Error(`${opened.verified.length} of ${nLines} lines verified`);
      // One line per witness key (Ed25519 and, with mlDsaKey, ML-DSA-44).
      if (nLines !== firstVkeys!.length) throw new Error(`${nLines} lines for ${firstVkeys!.length} keys`);
    } catch (e) {
      violation(`${log.origin}: a 200 for size ${size} carries lines that do not verify with the witness key: ${(e as Error).message}: ${JSON.stringify(lines)}`);
      return false;
    }
    report.cosignaturesVerified++;
    log.cosigned.push({ size, root });
    return true;
  };

  /** POSTs a body; null when the connection failed (server killed). */
  const post = async (b: string): Promise<{ status: number; text: string } | null> => {
    const url = await gate.promise;
    if (stopping) return null;
    const gen = generation;
    report.requests++;
    try {
      const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: b });
      const text = await res.text();
      count(res.status);
      roundResponses++;
      roundWaiter?.();
      return { status: res.status, text };
    } catch (e) {
      if (gen === generation && alive) violation(`connection error while the server was up: ${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}`);
      report.inFlightAtKill++;
      count('conn-error');
      return null;
    }
  };

  const fetchStored = async (url: string, log: AnyLog): Promise<{ size: bigint; root: Uint8Array } | undefined | 'error'> => {
    const res = await fetch(`${url}/${originHash(log.origin)}/checkpoint`);
    const text = await res.text();
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      violation(`${log.origin}: monitoring GET answered ${res.status}: ${text}`);
      return 'error';
    }
    try {
      const byLog = openNote(text, [parseVkey(log.key.vkey)]);
      const byWitness = openNote(text, witnessVerifiers!);
      if (byWitness.verified.length !== firstVkeys!.length) throw new Error(`${byWitness.verified.length} witness cosignatures for ${firstVkeys!.length} keys`);
      const cp = parseCheckpoint(byLog.text);
      return { size: cp.size, root: cp.root };
    } catch (e) {
      violation(`${log.origin}: monitoring GET checkpoint does not verify: ${(e as Error).message}: ${JSON.stringify(text)}`);
      return 'error';
    }
  };

  // ---- honest clients ----
  const honestClient = async (log: HonestLog, id: number): Promise<void> => {
    while (!stopping) {
      const old = log.known;
      const replay = old > 0n && rnd.int(20) === 0;
      const size = replay ? old : old + 1n + BigInt(rnd.int(4));
      while (log.tree.size < size) log.tree.append(utf8(`${log.origin} leaf ${log.tree.size} c${id}`));
      const root = log.tree.root(size);
      const note = signNote(formatCheckpoint({ origin: log.origin, size, root }), [log.key]);
      const proof = old > 0n && old < size ? log.tree.consistencyProof(old, size) : [];
      const r = await post(body(old, proof, note));
      if (!r) continue;
      if (r.status === 200) {
        if (acceptCosignature(log, note, r.text, size, root) && size > log.known) log.known = size;
      } else if (r.status === 409) {
        const n = BigInt(r.text.trim());
        if (n > log.known) log.known = n;
      } else {
        violation(`${log.origin}: valid ${replay ? 'replay' : 'advance'} ${old} -> ${size} answered ${r.status}: ${r.text.trim()}`);
      }
    }
  };

  // ---- forking clients ----
  /** Brings the trunk up to the witness's stored state (after a 409 beyond the trunk). */
  const resolveFork = async (url: string): Promise<void> => {
    const s = await fetchStored(url, fork);
    if (s === 'error' || s === undefined) return;
    if (s.size <= fork.trunk.size) {
      if (!equalBytes(fork.trunk.root(s.size), s.root)) violation(`${fork.origin}: the witness holds size ${s.size} with a root off the accepted branch`);
      return;
    }
    const c = fork.pending.find((p) => p.size === s.size && equalBytes(p.root, s.root));
    if (!c) violation(`${fork.origin}: the witness holds size ${s.size} that is no extension of the accepted branch (trunk ${fork.trunk.size})`);
    else adopt(fork, c);
  };

  const forkClient = async (id: number): Promise<void> => {
    while (!stopping) {
      const s = fork.trunk.size;
      const action = s > 0n ? rnd.int(20) : 0;
      const newLeaves = (n: number) => Array.from({ length: n }, () => hashLeaf(utf8(`fork c${id} t${fork.tag++}`)));
      let c: Candidate;
      const old = s;
      let proof: Uint8Array[];
      if (action === 1) {
        // Same size, different root: a branch diverging below s, cut at s.
        const base = BigInt(rnd.int(Number(s)));
        c = candidate(fork.trunk, base, newLeaves(Number(s - base)), false);
        proof = [];
      } else if (action === 2) {
        // Larger size with a valid proof within a branch that diverges below s.
        const base = BigInt(rnd.int(Number(s)));
        c = candidate(fork.trunk, base, newLeaves(Number(s - base) + 1 + rnd.int(3)), false);
        proof = consistencyProof(s, c.size, c.hasher);
      } else {
        // A race: a fresh branch on the accepted size.
        c = candidate(fork.trunk, s, newLeaves(1 + rnd.int(4)), true);
        fork.pending.push(c);
        proof = s > 0n ? consistencyProof(s, c.size, c.hasher) : [];
      }
      const note = signNote(formatCheckpoint({ origin: fork.origin, size: c.size, root: c.root }), [fork.key]);
      const url = await gate.promise;
      const r = await post(body(old, proof, note));
      if (!r) continue;
      if (r.status === 200) {
        if (!c.race) {
          violation(`${fork.origin}: cosigned a checkpoint of a branch that diverges below the accepted size ${s} (size ${c.size}, ${action === 1 ? 'same size, different root' : 'extension'})`);
          acceptCosignature(fork, note, r.text, c.size, c.root);
          continue;
        }
        if (!acceptCosignature(fork, note, r.text, c.size, c.root)) continue;
        if (c.adopted) continue;
        if (fork.trunk.size === c.base) {
          adopt(fork, c);
          report.forkRacesWon++;
        } else {
          violation(`${fork.origin}: cosigned branch c${id} at ${c.size} from base ${c.base}, but the witness had already accepted another branch (now at ${fork.trunk.size})`);
        }
      } else if (r.status === 409) {
        if (c.race) report.forkRaceLosses++;
        else report.conflictsRefused++;
        const n = BigInt(r.text.trim());
        if (n > fork.trunk.size) await resolveFork(url).catch(() => {});
      } else if (r.status === 422 && !c.race) {
        report.conflictsRefused++;
      } else {
        violation(`${fork.origin}: ${c.race ? 'race' : 'conflict'} request ${old} -> ${c.size} answered ${r.status}: ${r.text.trim()}`);
      }
    }
  };

  // ---- checks after each (re)start, with the clients paused ----
  const checkStored = async (url: string, final: boolean): Promise<void> => {
    for (const log of logs) {
      const s = await fetchStored(url, log);
      if (s === 'error') continue;
      const stored: Cosigned = s ?? { size: 0n, root: new Uint8Array(32) };
      const maxCosigned = log.cosigned.reduce((m, c) => (c.size > m ? c.size : m), 0n);
      if (stored.size < maxCosigned) violation(`${log.origin}: stored size ${stored.size} is below ${maxCosigned}, which a client was given a cosignature for (rollback)`);
      if (log.lastStored && stored.size < log.lastStored.size) violation(`${log.origin}: stored size went back from ${log.lastStored.size} to ${stored.size}`);
      if (s === undefined) {
        if (maxCosigned > 0n || log.cosigned.length > 0) violation(`${log.origin}: no stored checkpoint, but cosignatures were given`);
        continue;
      }
      // The tree that explains the stored checkpoint.
      let rootAt: (n: bigint) => Uint8Array;
      if (log.kind === 'honest') {
        if (s.size > log.tree.size || !equalBytes(log.tree.root(s.size), s.root)) {
          violation(`${log.origin}: stored (${s.size}) is not a checkpoint of the log's tree`);
          continue;
        }
        rootAt = (n) => log.tree.root(n);
        if (s.size > maxCosigned) report.storedAheadOfAnswers++;
        if (s.size > log.known) log.known = s.size;
      } else {
        if (s.size > fork.trunk.size) {
          const c = fork.pending.find((p) => p.size === s.size && equalBytes(p.root, s.root));
          if (!c) {
            violation(`${fork.origin}: stored size ${s.size} is no extension of the accepted branch (trunk ${fork.trunk.size})`);
            continue;
          }
          adopt(fork, c);
          report.storedAheadOfAnswers++;
        } else if (s.size < fork.trunk.size) {
          violation(`${fork.origin}: stored size ${s.size} is below the accepted size ${fork.trunk.size}`);
          continue;
        }
        if (!equalBytes(fork.trunk.root(s.size), s.root)) {
          violation(`${fork.origin}: stored root at ${s.size} is off the accepted branch`);
          continue;
        }
        rootAt = (n) => fork.trunk.root(n);
      }
      // Consistent with the previous stored state and with every cosignature given since the
      // last check (earlier ones were checked against the previous state: transitivity).
      const check = final ? log.cosigned : log.cosigned.slice(log.checkedUpTo);
      if (log.lastStored && !equalBytes(rootAt(log.lastStored.size), log.lastStored.root)) violation(`${log.origin}: stored checkpoint ${s.size} is inconsistent with the previously stored ${log.lastStored.size}`);
      for (const c of check) {
        if (c.size > s.size || !equalBytes(rootAt(c.size), c.root)) violation(`${log.origin}: cosigned (${c.size}) is inconsistent with the stored checkpoint (${s.size})`);
      }
      log.checkedUpTo = log.cosigned.length;
      log.lastStored = { size: s.size, root: s.root };
      report.finalSizes[log.origin] = s.size.toString();
    }
  };

  /** No two cosignatures for one origin are for inconsistent trees (pairwise, via the largest). */
  const checkPairwise = (): void => {
    for (const log of logs) {
      if (log.cosigned.length === 0) continue;
      const tree = log.kind === 'honest' ? log.tree : fork.trunk;
      const max = log.cosigned.reduce((m, c) => (c.size > m.size ? c : m));
      // The largest cosigned checkpoint must be on the log's tree; every other one a prefix of it.
      if (max.size > tree.size || !equalBytes(tree.root(max.size), max.root)) {
        violation(`${log.origin}: the largest cosigned checkpoint (${max.size}) is off the accepted tree`);
        continue;
      }
      let bad = 0;
      for (const c of log.cosigned) if (!equalBytes(tree.root(c.size), c.root)) bad++;
      if (bad > 0) violation(`${log.origin}: ${bad} cosigned checkpoints are inconsistent with the largest one (${max.size})`);
    }
  };

  let server: ServeChild | undefined;
  const clients: Promise<void>[] = [];
  try {
    for (let round = 0; round <= opts.restarts; round++) {
      server = await startServe(runner, config);
      report.startupMs.push(server.startupMs);
      if (!firstVkeys) {
        firstVkeys = server.vkeys;
        witnessVerifiers = new VerifierSet(server.vkeys.map((v) => parseCosignatureVkey(v)));
      } else if (server.vkeys.join() !== firstVkeys.join()) {
        violation(`the witness's vkeys changed across a restart: ${firstVkeys} -> ${server.vkeys}`);
      }
      alive = true;
      await checkStored(server.url, false);
      if (report.violations.length > 0) break;
      if (round === opts.restarts) break; // the final start: checked, no more load

      // Release the clients for this generation.
      roundResponses = 0;
      gate.resolve(server.url);
      if (round === 0) {
        for (const l of logs) if (l.kind === 'honest') clients.push(honestClient(l, 0), honestClient(l, 1));
        for (let i = 0; i < (opts.forkClients ?? 3); i++) clients.push(forkClient(i));
      }
      const target = 1 + rnd.int(maxResp);
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`round ${round}: fewer than ${target} responses within ${ROUND_DEADLINE_MS} ms (got ${roundResponses}); server output: ${server!.output()}`)), ROUND_DEADLINE_MS);
        roundWaiter = () => {
          if (roundResponses >= target) {
            roundWaiter = undefined;
            clearTimeout(timer);
            res();
          }
        };
        roundWaiter();
      });
      // A random point shortly after: up to ~3 ms more of load (0 = right now).
      const extra = rnd.int(4);
      if (extra > 0) await new Promise((r) => setTimeout(r, extra));
      // Close the gate and kill in the same turn: every request in flight stays in flight.
      gate = deferred<string>();
      generation++;
      alive = false;
      server.child.kill('SIGKILL');
      const { signal } = await server.exited;
      if (signal !== 'SIGKILL') violation(`round ${round}: the server exited by itself (${signal}) before the kill: ${server.output()}`);
      report.restarts++;
      if (report.violations.length > 0) break;
      if ((round + 1) % 50 === 0) say(`crash: ${round + 1} restarts, ${report.requests} requests, ${report.cosignaturesVerified} cosignatures, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (report.violations.length === 0 && server) {
      await checkStored(server.url, true);
      checkPairwise();
    }
  } finally {
    stopping = true;
    // Let paused clients run to their loop check against a dead URL, then stop the server.
    gate.resolve('http://127.0.0.1:9');
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await Promise.allSettled(clients);
    killAllChildren();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }
  report.totalMs = performance.now() - t0;
  return report;
}

export function summarize(r: CrashReport): string {
  const st = [...r.startupMs].sort((a, b) => a - b);
  const p = (q: number) => st[Math.min(st.length - 1, Math.floor(q * st.length))]?.toFixed(0);
  return [
    `seed ${r.seed}, runner ${r.runner}: ${r.restarts} SIGKILL restarts in ${(r.totalMs / 1000).toFixed(1)} s`,
    `requests ${r.requests}; statuses ${JSON.stringify(r.statuses)}`,
    `cosignatures verified ${r.cosignaturesVerified}; in flight at a kill ${r.inFlightAtKill}; stored ahead of every answer after a restart ${r.storedAheadOfAnswers}`,
    `forking log: races won ${r.forkRacesWon}, race requests refused (409) ${r.forkRaceLosses}, diverging-branch checkpoints refused ${r.conflictsRefused}`,
    `startup ms: p50 ${p(0.5)}, p90 ${p(0.9)}, max ${p(1)}; final sizes ${JSON.stringify(r.finalSizes)}`,
    `violations: ${r.violations.length === 0 ? 'none' : '\n  ' + r.violations.join('\n  ')}`,
  ].join('\n');
}
