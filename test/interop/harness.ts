// Helpers for the interop tests: run our Go helper programs (test/interop/go, test/interop/sigsum)
// with JSON on stdin/stdout. The request/response shapes are documented at the top of each
// helper's main.go and typed below.
//
// goHelper() / sigsumHelper() return null when the helper cannot be had (no toolchain, no library
// source, build failure); the reason is then in interopStatus() and printed with console.warn. Test
// files skip with that reason in the suite title (never silently). With INTEROP_REQUIRED=1 in the
// environment a missing helper fails instead (for CI, where .ci/install-interop.sh installs them);
// INTEROP_SKIP=1 skips them on purpose (with the reason printed).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const GO_BIN = join(HERE, 'go', 'bin', 'gointerop');
const SIGSUM_BIN = join(HERE, 'sigsum', 'bin', 'sigsuminterop');
const BUILD_TIMEOUT_MS = 300_000;
const CALL_TIMEOUT_MS = 120_000;

// ---------- response types ----------

export interface GoSig {
  name: string;
  /** 8 lowercase hex digits. */
  key_id: string;
  sig_b64: string;
}

export type GoOpenResult =
  | { ok: true; text: string; verified?: GoSig[]; unverified?: GoSig[] }
  | {
      ok: false;
      error: string;
      kind: 'vkey' | 'malformed' | 'unverified' | 'invalid_signature' | 'other';
      vkey_index?: number;
      unverified?: GoSig[];
    };

/** note and note_b64 on success, error (Go's message) on failure. */
export interface GoSignResult {
  note?: string;
  note_b64?: string;
  error?: string;
}

export type GoKeyCheck = { ok: true; name: string; key_id: string } | { ok: false; error: string };

export interface GoTreeRequest {
  seed: string;
  n: number;
  /** [old size, new size] pairs. */
  consistency?: [number, number][];
  /** [leaf index, tree size] pairs. */
  inclusion?: [number, number][];
  no_leaves?: boolean;
  no_roots?: boolean;
}

export interface GoTreeResult {
  error?: string;
  leaf_hashes?: string[];
  /** roots[s] is tlog.TreeHash(s); roots[0] is Go's all-zero hash, not SHA-256(""). */
  roots?: string[];
  consistency: { old: number; new: number; proof: string[] | null; error?: string }[];
  inclusion: { index: number; size: number; proof: string[] | null; error?: string }[];
}

export interface GoCheckTree {
  old_size: number;
  new_size: number;
  old_root: string;
  new_root: string;
  proof: string[];
}

export interface GoCheckRecord {
  index: number;
  size: number;
  leaf_hash: string;
  root: string;
  proof: string[];
}

export interface OkResult {
  ok: boolean;
  error?: string;
}

export type NoteInput = { note: string } | { note_b64: string };

export interface GoHelper {
  readonly binary: string;
  /** Raw call: one request (or an array = batch) in, parsed JSON out. */
  call<T>(subcommand: string, input?: unknown, args?: string[]): T;
  keygen(name: string): { skey: string; vkey: string };
  keygenBatch(reqs: { name: string; seed_b64?: string }[]): ({ skey: string; vkey: string } | { error: string })[];
  sign(reqs: ({ skeys: string[]; text: string } | ({ skeys: string[]; vkeys?: string[] } & NoteInput))[]): GoSignResult[];
  open(reqs: ({ vkeys: string[] } & NoteInput)[]): GoOpenResult[];
  vkeyCheck(vkeys: string[]): GoKeyCheck[];
  skeyCheck(skeys: string[]): GoKeyCheck[];
  tree(req: GoTreeRequest): GoTreeResult;
  checkTree(reqs: GoCheckTree[]): OkResult[];
  checkRecord(reqs: GoCheckRecord[]): OkResult[];
}

export type CosigVerifyRequest = {
  origin: string;
  size: number | string;
  root_b64: string;
} & ({ key_hex: string } | { vkey: string }) &
  ({ line: string } | { timestamp: number | string; sig_b64: string });

export interface CosignRequest {
  seed_b64: string;
  key_name: string;
  origin: string;
  size: number | string;
  root_b64: string;
  timestamp: number | string;
}

export interface SigsumHelper {
  readonly binary: string;
  call<T>(subcommand: string, input?: unknown): T;
  cosigVerify(reqs: CosigVerifyRequest[]): (OkResult & { timestamp?: string; key_name?: string; key_id?: string })[];
  cosign(reqs: CosignRequest[]): ({ line: string; pub_hex: string; key_id: string; sig_b64: string } | { error: string })[];
}

// ---------- availability ----------

interface Status {
  go: { bin: string | null; reason: string };
  sigsum: { bin: string | null; reason: string };
}

let status: Status | undefined;

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Builds the helpers (build.sh; cached by Go, about a second when nothing changed) when a
 * toolchain is present, so that a stale binary is never used; otherwise uses a binary already
 * there, if any. Runs once per test file (synchronously, so describe.skipIf can use the result).
 */
export function interopStatus(): Status {
  if (status) return status;
  if (process.env.INTEROP_SKIP === '1') {
    const reason = 'disabled by INTEROP_SKIP=1';
    status = { go: { bin: null, reason }, sigsum: { bin: null, reason } };
    return status;
  }
  const haveGo119 = hasCommand('go') || existsSync('/usr/lib/go-1.19/bin/go');
  const haveGo123 = existsSync('/usr/lib/go-1.23/bin/go');
  let buildLog = '';
  if (haveGo119 || haveGo123) {
    const r = spawnSync('bash', [join(HERE, 'build.sh')], { encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
    buildLog = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim();
  }
  const reasonFor = (label: string, bin: string): string => {
    const line = buildLog.split('\n').find((l) => l.includes(`${label} helper`) && /skipped|FAILED/.test(l));
    if (line) return line.replace(/^interop: /, '');
    if (buildLog.includes('FAILED')) return `${label} helper build failed: ${buildLog}`;
    return `${label} helper not built (${bin} missing, no toolchain; run .ci/install-interop.sh then test/interop/build.sh)`;
  };
  status = {
    go: existsSync(GO_BIN) && !/FAILED to build go\//.test(buildLog)
      ? { bin: GO_BIN, reason: '' }
      : { bin: null, reason: reasonFor('go', GO_BIN) },
    sigsum: existsSync(SIGSUM_BIN) && !/FAILED to build sigsum\//.test(buildLog)
      ? { bin: SIGSUM_BIN, reason: '' }
      : { bin: null, reason: reasonFor('sigsum', SIGSUM_BIN) },
  };
  return status;
}

/** Prints why a suite is skipped; with INTEROP_REQUIRED=1 the caller should fail instead. */
export function reportSkip(what: string, reason: string): string {
  const msg = `interop: ${what} skipped: ${reason}`;
  console.warn(msg);
  return msg;
}

export const interopRequired = process.env.INTEROP_REQUIRED === '1';

function run<T>(bin: string, subcommand: string, input: unknown, args: string[] = []): T {
  const r = spawnSync(bin, [subcommand, ...args], {
    input: input === undefined ? '' : JSON.stringify(input),
    encoding: 'utf8',
    timeout: CALL_TIMEOUT_MS,
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${bin} ${subcommand}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${bin} ${subcommand} exited ${r.status}: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new Error(`${bin} ${subcommand}: bad JSON output (${(e as Error).message}): ${r.stdout.slice(0, 500)}`);
  }
}

function batch<Req, Res>(bin: string, sub: string, reqs: Req[]): Res[] {
  if (reqs.length === 0) return [];
  const out = run<Res[]>(bin, sub, reqs);
  if (!Array.isArray(out) || out.length !== reqs.length) throw new Error(`${sub}: expected ${reqs.length} answers`);
  return out;
}

/** The x/mod helper, or null (reason printed) when it cannot be built. */
export function goHelper(): GoHelper | null {
  const s = interopStatus().go;
  if (!s.bin) return null;
  const bin = s.bin;
  return {
    binary: bin,
    call: <T>(sub: string, input?: unknown, args?: string[]) => run<T>(bin, sub, input, args),
    keygen: (name) => run(bin, 'note-keygen', undefined, [name]),
    keygenBatch: (reqs) => batch(bin, 'note-keygen', reqs),
    sign: (reqs) => batch(bin, 'note-sign', reqs),
    open: (reqs) => batch(bin, 'note-open', reqs),
    vkeyCheck: (vkeys) => batch(bin, 'vkey-check', vkeys.map((vkey) => ({ vkey }))),
    skeyCheck: (skeys) => batch(bin, 'skey-check', skeys.map((skey) => ({ skey }))),
    tree: (req) => run(bin, 'tree', req),
    checkTree: (reqs) => batch(bin, 'check-tree', reqs),
    checkRecord: (reqs) => batch(bin, 'check-record', reqs),
  };
}

/** The sigsum-go helper, or null (reason printed) when it cannot be built. */
export function sigsumHelper(): SigsumHelper | null {
  const s = interopStatus().sigsum;
  if (!s.bin) return null;
  const bin = s.bin;
  return {
    binary: bin,
    call: <T>(sub: string, input?: unknown) => run<T>(bin, sub, input),
    cosigVerify: (reqs) => batch(bin, 'cosig-verify', reqs),
    cosign: (reqs) => batch(bin, 'cosign', reqs),
  };
}

// ---------- deterministic randomness for reproducible failures ----------

/** A small seeded PRNG (mulberry32); tests print the seed so a failure can be replayed. */
export function prng(seed: number): { next(): number; int(n: number): number; bytes(n: number): Uint8Array; pick<T>(a: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    bytes(n) {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return b;
    },
    pick: (arr) => arr[int(arr.length)],
  };
}

/** Seed from INTEROP_SEED, else random; printed by the caller. */
export function testSeed(): number {
  const env = process.env.INTEROP_SEED;
  return env ? Number(env) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}
