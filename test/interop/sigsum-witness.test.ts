// Interop with a real witness: sigsum-witness (sigsum-go 0.11.1, Debian bookworm-backports) and
// our witness (startWitnessNode: LevelDB storage, real HTTP server) follow the same log and get
// the same sequence of add-checkpoint requests. Our answers must match the spec column of
// ../shared/spec/protocols.md §4.3 (and ../shared/interop/README.md §4); sigsum-witness's must
// match it too, except for the departures listed in SIGSUM_DEPARTS_FROM_SPEC below. Then both
// directions of cosignature verification: sigsum-go's verifier (test/interop/sigsum helper,
// cosig-verify) accepts every cosignature our witness returned in the run, and ours
// (parseCosignatureVkey of the vkey `sigsum-key to-vkey` prints) accepts sigsum-witness's.
//
// sigsum-witness witnesses exactly one log, whose origin must be
// "sigsum.org/v1/tree/<hex sha256(log public key)>", whose note key name equals the origin, and
// whose checkpoints carry no extension lines. It names its own cosignature key
// "sigsum.org/v1/witness/<hex sha256(witness public key)>". Debian's build needs
// GODEBUG=httpmuxgo121=0 (otherwise every route answers 404).
//
// Skipped with a printed reason when the tools are missing; with INTEROP_REQUIRED=1 (CI after a
// successful install) a missing tool fails instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { formatCheckpoint, parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { ed25519KeyFromSeed, openNote, parseCosignatureVkey, signNote, type Ed25519SignerKey } from '../../src/note/index.js';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { interopRequired, interopStatus, reportSkip, sigsumHelper } from './harness.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../../src/util/ports.js';

const DEADLINE_MS = 15_000;

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const helper = sigsumHelper();
function unavailable(): string {
  if (process.env.INTEROP_SKIP === '1') return 'disabled by INTEROP_SKIP=1';
  const missing = ['sigsum-witness', 'sigsum-key'].filter((c) => !hasCommand(c));
  if (missing.length > 0) return `${missing.join(' and ')} not installed (apt-get install -t bookworm-backports sigsum-go; see .ci/install-interop.sh)`;
  if (!helper) return interopStatus().sigsum.reason;
  return '';
}
const why = unavailable();
const skipReason = why ? reportSkip('sigsum-witness interop', why) : '';

/**
 * Where sigsum-witness 0.11.1 answers differently from the spec column (protocols.md §4.3,
 * interop README §4). Each entry: the case name, the spec status (what we answer), what
 * sigsum-witness answers, and why (from its source, pkg/requests/witness.go and
 * pkg/checkpoint/checkpoint.go: it checks the proof's emptiness, old > size and the checkpoint's
 * syntax while PARSING the request, before the origin, the signature or the stored size).
 */
const SIGSUM_DEPARTS_FROM_SPEC: Record<string, { spec: number; sigsum: number; why: string }> = {
  'non-empty proof with old 0 (fresh witness)': { spec: 422, sigsum: 400, why: 'the parser refuses a non-empty proof when old is 0' },
  'non-empty proof with old == size': { spec: 422, sigsum: 400, why: 'the parser refuses a non-empty proof when old equals the size' },
  'non-empty proof with old 0 (old != stored size)': { spec: 409, sigsum: 400, why: 'the parse-time proof check comes before the stored-size comparison' },
  'empty proof with 0 < old < size': { spec: 422, sigsum: 400, why: 'the parser refuses a missing proof ("consistency proof missing") instead of failing verification' },
  'signed only by a key with another name': { spec: 403, sigsum: 400, why: 'the parser requires a signature line whose name is the origin ("no log signature")' },
  'extension lines': { spec: 200, sigsum: 400, why: 'the parser requires the blank line right after the root: extension lines are refused' },
};

interface Answer {
  status: number;
  text: string;
  contentType: string | null;
}

interface Case {
  name: string;
  body: string | Uint8Array;
  /** The spec's answer (ours must match it). */
  spec: number;
  /** For a 409: the size both must report. */
  size?: bigint;
  /** For a 200: the checkpoint note, to verify the cosignature lines. */
  note?: string;
}

const b64 = (h: Uint8Array): string => Buffer.from(h).toString('base64');
const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function addBody(old: bigint | number, proof: Uint8Array[], note: string): string {
  return `old ${old}\n${proof.map((h) => b64(h) + '\n').join('')}\n${note}`;
}

/** A sigsum-style log key: the note key name is sigsum.org/v1/tree/<hex sha256(pub)>. */
function sigsumLogKey(seed: Uint8Array): { key: Ed25519SignerKey; origin: string; pub: Uint8Array } {
  const pub = ed25519KeyFromSeed('x', seed).publicKey;
  const origin = `sigsum.org/v1/tree/${sha256hex(pub)}`;
  return { key: ed25519KeyFromSeed(origin, seed), origin, pub };
}


function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: DEADLINE_MS });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}

describe.skipIf(!!skipReason)(`sigsum-witness interop: the same requests to both witnesses${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-sigsum-witness-'));
  let sigsumChild: ChildProcess | undefined;
  let sigsumUrl = '';
  let sigsumVkey = '';
  let ours: WitnessNode | undefined;
  const log = sigsumLogKey(randomBytes(32));
  const tree = new MemoryTree();
  for (let i = 0; i < 48; i++) tree.append(new TextEncoder().encode(`sigsum interop leaf ${i}`));
  const cp = (size: number, extensions: string[] = []): string =>
    signNote(formatCheckpoint({ origin: log.origin, size: BigInt(size), root: tree.root(BigInt(size)), extensions }), [log.key]);
  const proof = (a: number, b: number): Uint8Array[] => tree.consistencyProof(BigInt(a), BigInt(b));

  /** Every 200 each witness gave: the checkpoint note and the returned lines. */
  const cosigned: { ours: { note: string; lines: string }[]; sigsum: { note: string; lines: string }[] } = { ours: [], sigsum: [] };
  const observed: { name: string; spec: number; ours: number; sigsum: number }[] = [];

  beforeAll(async () => {
    // sigsum-witness: its own key, and the log key converted from our vkey.
    run('sigsum-key', ['gen', '-o', join(dir, 'witness.key')]);
    const keyHash = run('sigsum-key', ['to-hash', '-k', join(dir, 'witness.key.pub')]).trim();
    sigsumVkey = run('sigsum-key', ['to-vkey', '-k', join(dir, 'witness.key.pub'), '-n', `sigsum.org/v1/witness/${keyHash}`, '-t', 'cosignature/v1']).trim();
    writeFileSync(join(dir, 'log.pub'), run('sigsum-key', ['from-vkey'], log.key.vkey + '\n'));
    // The converted key is the same key (sigsum-key to-vkey gives back our vkey).
    expect(run('sigsum-key', ['to-vkey', '-k', join(dir, 'log.pub')]).trim()).toBe(log.key.vkey);

    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const child = spawn('sigsum-witness', ['-k', join(dir, 'witness.key'), '--log-key', join(dir, 'log.pub'), '--state-file', join(dir, 'state.txt'), `127.0.0.1:${port}`], {
        env: { ...process.env, GODEBUG: 'httpmuxgo121=0' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      let exited = false;
      child.once('exit', () => (exited = true));
      sigsumChild = child;
      const url = `http://127.0.0.1:${port}`;
      // Ready when it answers anything; an exit (the port taken meanwhile) means another attempt.
      const up = await waitFor(
        () => (exited ? 'exited' : fetch(`${url}/add-checkpoint`, { method: 'GET' }).then(() => 'up', () => undefined)),
        { what: 'sigsum-witness to answer', timeoutMs: DEADLINE_MS, intervalMs: 20 },
      ).catch(() => 'timed out');
      if (up === 'up') {
        sigsumUrl = url;
        break;
      }
      child.kill('SIGKILL');
      if (attempt >= 2) throw new Error(`sigsum-witness did not start: ${err}`);
    }

    const config = parseConfig(
      `name: gossip-witness.example/interop
key: ours.key
data: ours-data
http: { listen: "127.0.0.1:0" }
logs:
  - { origin: "${log.origin}", vkeys: [ "${log.key.vkey}" ] }
`,
      join(dir, 'ours.yaml'),
    );
    ours = await startWitnessNode(config);
  }, 60_000);

  afterAll(async () => {
    if (sigsumChild && sigsumChild.exitCode === null && sigsumChild.signalCode === null) sigsumChild.kill('SIGKILL');
    await ours?.close();
    rmSync(dir, { recursive: true, force: true });
    if (observed.length > 0) {
      console.log(
        'sigsum-witness interop, statuses (spec / ours / sigsum-witness):\n' +
          observed.map((o) => `  ${o.name}: ${o.spec} / ${o.ours} / ${o.sigsum}${o.sigsum !== o.spec ? '  <- sigsum-witness departs from the spec' : ''}`).join('\n'),
      );
    }
  });

  const post = async (url: string, body: string | Uint8Array): Promise<Answer> => {
    const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body) });
    return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
  };

  const send = async (c: Case): Promise<void> => {
    const a = await post(ours!.url, c.body);
    const s = await post(sigsumUrl, c.body);
    observed.push({ name: c.name, spec: c.spec, ours: a.status, sigsum: s.status });
    const departure = SIGSUM_DEPARTS_FROM_SPEC[c.name];
    expect(a.status, `ours, ${c.name}: ${a.text}`).toBe(c.spec);
    if (departure) expect(departure.spec, `departure table entry for ${c.name}`).toBe(c.spec);
    expect(s.status, `sigsum-witness, ${c.name}: ${s.text}`).toBe(departure ? departure.sigsum : c.spec);
    for (const [who, ans] of [['ours', a], ['sigsum', s]] as const) {
      if (ans.status === 409) {
        expect(ans.contentType, `${who} 409 Content-Type`).toMatch(/^text\/x\.tlog\.size/);
        expect(ans.text, `${who} 409 body`).toBe(`${c.size}\n`);
      }
      if (ans.status === 200) cosigned[who].push({ note: c.note!, lines: ans.text });
    }
  };

  it('answers the request sequence like the spec; sigsum-witness too, except for its listed departures', async () => {
    const other = sigsumLogKey(randomBytes(32)); // a log neither witness follows
    const impostor = ed25519KeyFromSeed(log.origin, randomBytes(32)); // the log's name, another key
    const unrelated = ed25519KeyFromSeed('example.com/someone-else', randomBytes(32));
    const fork = new MemoryTree();
    for (let i = 0; i < 5; i++) fork.appendLeafHash(tree.leafHash(BigInt(i)));
    for (let i = 5; i < 23; i++) fork.append(new TextEncoder().encode(`sigsum interop FORK leaf ${i}`));
    const forkNote = (size: number) => signNote(formatCheckpoint({ origin: log.origin, size: BigInt(size), root: fork.root(BigInt(size)) }), [log.key]);
    const flip = (note: string): string => {
      // Corrupt one byte of the log's signature (same key name and key ID).
      const i = note.lastIndexOf(' ') + 10;
      const c = note[i] === 'A' ? 'B' : 'A';
      return note.slice(0, i) + c + note.slice(i + 1);
    };
    const junk = new Uint8Array(32).fill(7);
    const text = (size: number) => formatCheckpoint({ origin: log.origin, size: BigInt(size), root: tree.root(BigInt(size)) });

    // Before either witness holds anything (stored size 0).
    await send({ name: 'garbage body', body: 'hello, witness\n', spec: 400 });
    await send({ name: 'non-empty proof with old 0 (fresh witness)', body: addBody(0, [junk], cp(5)), spec: 422 });
    await send({ name: 'size 0 with a root other than SHA-256("")', body: addBody(0, [], signNote(formatCheckpoint({ origin: log.origin, size: 0n, root: junk }), [log.key])), spec: 422 });
    await send({ name: 'signature by another key with the log name', body: addBody(0, [], signNote(text(5), [impostor])), spec: 403 });
    await send({ name: 'corrupted log signature', body: addBody(0, [], flip(cp(5))), spec: 403 });
    await send({ name: 'signed only by a key with another name', body: addBody(0, [], signNote(text(5), [unrelated])), spec: 403 });
    await send({ name: 'unknown origin', body: addBody(0, [], signNote(formatCheckpoint({ origin: other.origin, size: 5n, root: tree.root(5n) }), [other.key])), spec: 404 });
    await send({ name: 'old > checkpoint size', body: addBody(7, [], cp(5)), spec: 400 });
    // Accept and advance.
    await send({ name: 'first old 0, valid', body: addBody(0, [], cp(5)), spec: 200, note: cp(5) });
    await send({ name: 'stale old size (0, holds 5)', body: addBody(0, [], cp(9)), spec: 409, size: 5n });
    let n = cp(9);
    await send({ name: 'advance 5 -> 9 with a proof', body: addBody(5, proof(5, 9), n), spec: 200, note: n });
    n = cp(16);
    await send({ name: 'advance 9 -> 16 with a proof', body: addBody(9, proof(9, 16), n), spec: 200, note: n });
    n = cp(23);
    await send({ name: 'advance 16 -> 23 with a proof (old a power of two)', body: addBody(16, proof(16, 23), n), spec: 200, note: n });
    // Rejections at 23.
    const bad = proof(23, 30);
    bad[1] = junk;
    await send({ name: 'bad consistency proof (one hash wrong)', body: addBody(23, bad, cp(30)), spec: 422 });
    await send({ name: 'truncated consistency proof', body: addBody(23, proof(23, 30).slice(0, -1), cp(30)), spec: 422 });
    await send({ name: 'empty proof with 0 < old < size', body: addBody(23, [], cp(30)), spec: 422 });
    await send({ name: 'stale old size with a valid proof (16, holds 23)', body: addBody(16, proof(16, 30), cp(30)), spec: 409, size: 23n });
    n = cp(23);
    await send({ name: 'same size, same root (fresh timestamp)', body: addBody(23, [], n), spec: 200, note: n });
    await send({ name: 'same size, different root', body: addBody(23, [], forkNote(23)), spec: 422 });
    await send({ name: 'non-empty proof with old == size', body: addBody(23, [junk], cp(23)), spec: 422 });
    await send({ name: 'non-empty proof with old 0 (old != stored size)', body: addBody(0, [junk], cp(30)), spec: 409, size: 23n });
    await send({ name: '64 proof lines', body: addBody(23, Array.from({ length: 64 }, () => junk), cp(30)), spec: 400 });
    n = cp(40);
    await send({ name: 'advance 23 -> 40 with a proof', body: addBody(23, proof(23, 40), n), spec: 200, note: n });
    // Last, because the witnesses' states diverge after it (ours accepts, sigsum-witness refuses).
    n = cp(48, ['extension line']);
    await send({ name: 'extension lines', body: addBody(40, proof(40, 48), n), spec: 200, note: n });

    expect(cosigned.ours).toHaveLength(7);
    expect(cosigned.sigsum).toHaveLength(6);
  });

  it("sigsum-go's verifier accepts our cosignatures from this run", () => {
    const vkey = ours!.vkeys[0];
    const reqs = cosigned.ours
      .map(({ note, lines }) => ({ cp: parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1)), lines }))
      // sigsum-go cosigns origin, size and root only: it cannot check a checkpoint with extension lines.
      .filter(({ cp }) => cp.extensions.length === 0)
      .flatMap(({ cp, lines }) =>
        lines
          .split('\n')
          .filter((l) => l !== '')
          .map((line) => ({ vkey, origin: cp.origin, size: cp.size.toString(), root_b64: b64(cp.root), line })),
      );
    expect(reqs.length).toBe(6);
    const results = helper!.cosigVerify(reqs);
    for (const [i, r] of results.entries()) expect(r, `cosignature ${i}: ${JSON.stringify(reqs[i])}`).toMatchObject({ ok: true });
    // And a cosignature for another size does not verify (the helper really checks).
    const wrong = helper!.cosigVerify([{ ...reqs[0], size: (BigInt(reqs[0].size) + 1n).toString() }]);
    expect(wrong[0].ok).toBe(false);
  });

  it("our verifier accepts sigsum-witness's cosignatures (parseCosignatureVkey of sigsum-key to-vkey)", () => {
    const verifier = parseCosignatureVkey(sigsumVkey);
    expect(cosigned.sigsum.length).toBe(6);
    for (const { note, lines } of cosigned.sigsum) {
      const textPart = note.slice(0, note.indexOf('\n\n') + 1);
      const opened = openNote(textPart + '\n' + lines, [verifier]);
      expect(opened.verified).toHaveLength(1);
      expect(opened.verified[0].name).toBe(verifier.name);
      // Over another text it fails.
      const other = formatCheckpoint({ ...parseCheckpoint(textPart), size: parseCheckpoint(textPart).size + 1n });
      expect(() => openNote(other + '\n' + lines, [verifier])).toThrow();
    }
    // Its state file holds the log's checkpoint with its cosignature.
    expect(readFileSync(join(dir, 'state.txt'), 'utf8').length).toBeGreaterThan(0);
  });
});

if (skipReason && interopRequired) {
  describe('sigsum-witness interop (INTEROP_REQUIRED=1)', () => {
    it('has sigsum-witness, sigsum-key and the sigsum helper', () => expect.fail(skipReason));
  });
}
