// `npm run demo`, unattended (CI=true) as CI runs it: exit 0, the story's words, every process
// gone afterwards. And Ctrl-C: SIGINT stops every witness process and removes the temp directory.
// Post-quantum end to end (network-config/local-network.yaml): the log signs with ML-DSA-44 and w2
// cosigns with ML-DSA-44 (0x06 subtree/v1); the demo's client must verify both, and the network it
// leaves running serves a checkpoint that verifies here too, with the keys read from its directory.
// Dual-key (issue 14): w2 also holds an Ed25519 key (keyType [ed25519, ml-dsa-44]); it answers
// add-checkpoint with one line per key, and a 2-of-3 policy counts its two keys as one 1-of-2 group.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../gossip/helpers.js';
import { readWitnessKeyFile, witnessVkey } from '../../src/keys/keyfile.js';
import { parseNote, parseVkey } from '../../src/note/index.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { loadConfig } from '../../src/config.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const started: ChildProcess[] = [];
/** pid -> its start time (from /proc), so a reused pid is not mistaken for a leftover. */
const seenPids = new Map<number, string>();

afterEach(() => {
  // Whatever a failed test left behind.
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const [pid, start] of seenPids) if (alive(pid, start)) process.kill(pid, 'SIGKILL');
  seenPids.clear();
});

/** Start time (field 22 of /proc/PID/stat) and state; undefined once the process is gone. */
function stat(pid: number): { start: string; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], start: f[19] };
  } catch {
    return undefined;
  }
}

function startTime(pid: number): string | undefined {
  return stat(pid)?.start;
}

/** Running (not a zombie) and the same process as when first seen (pids are reused). */
function alive(pid: number, start: string | undefined): boolean {
  const s = stat(pid);
  return s !== undefined && s.start === start && s.state !== 'Z';
}

/** Every process seen is gone (helpers such as esbuild's service exit just after their parent). */
async function allGone(pids: ReadonlyMap<number, string | undefined>): Promise<number[]> {
  const left = () => [...pids].filter(([p, s]) => alive(p, s)).map(([p]) => p);
  await waitFor(() => left().length === 0, 'every process to exit', 5_000).catch(() => {});
  return left();
}

/** Every process below pid (children, grandchildren, ...), from ps. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const queue = [pid];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    for (const [p, pp] of rows) if (pp === queue[i] && !queue.includes(p)) {
      queue.push(p);
      out.push(p);
    }
  }
  return out;
}

function run(cmd: string, args: string[], env: Record<string, string>) {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  // Sample the process tree while it runs: the witness processes must all be gone at the end.
  const sampler = setInterval(() => {
    if (child.pid) for (const p of descendants(child.pid)) if (!seenPids.has(p)) seenPids.set(p, startTime(p) ?? '');
  }, 200);
  void exited.then(() => clearInterval(sampler));
  return { child, out: () => out, exited };
}

describe('npm run demo', () => {
  it('CI=true: runs the story unattended, catches the split view and exits 0', async () => {
    const r = run('npm', ['run', '--silent', 'demo'], { CI: 'true' });
    const code = await r.exited;
    const out = r.out();
    expect(code, out).toBe(0);
    expect(out).toMatch(/client: ACCEPTS size 8, cosigned by/);
    // The ML-DSA-44 part: the key types, then the client's check of the accepted checkpoint's 0x06
    // lines: the log's signature and w2's cosignature, by key name and the key ID of w2's vkey.
    expect(out).toMatch(/log log1: \S+ {2}origin "example\.local\/log1" {2}key ML-DSA-44 subtree\/v1 \(0x06, post-quantum\)/);
    expect(out).toMatch(/witness w1: .* key Ed25519 cosignature\/v1 \(0x04\)\n/);
    // w2 is dual-key: one line per key, the Ed25519 one first (keyType order).
    expect(out).toMatch(/witness w2: \S+ {2}peer \S+ {2}2 keys \(dual-key: one cosignature line per key\):\n.*w2 key 1: vkey w2\.example\.local\+[0-9a-f]{8}\+\S+ {2}key Ed25519 cosignature\/v1 \(0x04\)\n.*w2 key 2: vkey w2\.example\.local\+[0-9a-f]{8}\+\S+ {2}key ML-DSA-44 subtree\/v1 \(0x06, post-quantum\)\n/);
    expect(out).toMatch(/w2's 2 keys are one operator: policy witnesses w2-ed25519, w2-ml-dsa-44 in one group \(group w2 any w2-ed25519 w2-ml-dsa-44\), a single member of the 2-of-3/);
    expect(out).toMatch(/log log1 signed a checkpoint of size 8 with its ML-DSA-44 key/);
    expect(out).toMatch(/log signature example\.local\/log1\+[0-9a-f]{8}: ML-DSA-44 subtree\/v1 \(0x06\) VERIFIED with the log's 0x06 vkey/);
    const w2EdId = /w2 key 1: vkey (w2\.example\.local\+[0-9a-f]{8})\+/.exec(out)![1];
    const w2Id = /w2 key 2: vkey (w2\.example\.local\+[0-9a-f]{8})\+/.exec(out)![1];
    expect(w2EdId).not.toBe(w2Id);
    // w2's add-checkpoint answer: two lines, one per key, each verified with its vkey.
    const esc = (x: string) => x.replace(/[.+]/g, '\\$&');
    expect(out).toMatch(new RegExp(`w2 answered add-checkpoint with 2 cosignature lines, one per key, each VERIFIED with its vkey: ${esc(w2EdId)} \\(Ed25519 0x04\\), ${esc(w2Id)} \\(ML-DSA-44 0x06\\)`));
    // The 2-of-3 counted w2 once: both keys verified, one group member; w2's lines alone are refused.
    expect(out).toMatch(/client: ACCEPTS size 8, cosigned by w1, w2, w3 \(2 of 3 needed\)/);
    expect(out).toMatch(/the client's 2-of-3 counted w2 once: its keys w2-ed25519 and w2-ml-dsa-44 VERIFIED, and they are one group \(w2\), one of the members w1, w2, w3\n/);
    expect(out).toMatch(/checked: this checkpoint with only the log's signature and w2's 2 lines is REFUSED: 1 member\(s\) of the 2 needed/);
    expect(out).toMatch(new RegExp(`w2's cosignature ${w2Id.replace(/[.+]/g, '\\$&')}: ML-DSA-44 subtree/v1 \\(0x06\\) VERIFIED \\(timestamp [1-9]\\d+\\)`));
    expect(out).toMatch(/the accepted checkpoint is \d+ bytes with [3-9] signature lines; the client checked:/);
    expect(out).toMatch(/w1: \d+ peers; accepted [1-9]\d* gossip message/);
    for (const w of ['w1', 'w2', 'w3']) expect(out).toMatch(new RegExp(`${w}: split view evidence [0-9a-f]{16}… VERIFIED`));
    expect(out).toMatch(/client: REFUSES the forked checkpoint of size 10 \(cosigned only by w3\)/);
    expect(out).toContain('OUTCOME: split view caught. Every witness (');
    expect(out).toContain('holds verified evidence');
    expect(out).toContain("POST-QUANTUM: the log signed every checkpoint and w2 cosigned with ML-DSA-44 (0x06 subtree/v1); the client verified those signatures on the accepted checkpoint and in the split-view evidence.");
    expect(out).toContain('DUAL-KEY: w2 answered add-checkpoint with 2 cosignature lines, one per key (Ed25519 0x04, ML-DSA-44 0x06); the 2-of-3 client counted w2 once (its 2 keys are one group).');
    const dir = /keys, configs and data: (\S+)/.exec(out)![1];
    expect(existsSync(dir)).toBe(false);
    // npm, node and the three witness processes were seen; none is left.
    expect(seenPids.size).toBeGreaterThanOrEqual(4);
    expect(await allGone(seenPids)).toEqual([]);
  }, 90_000);

  it('exits non-zero with a clear message when it cannot show a split view', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-demo-bad-'));
    try {
      const file = join(dir, 'net.yaml');
      writeFileSync(file, 'logs:\n  - { name: log1 }\nwitnesses:\n  - { name: w1 }\n  - { name: w2 }\n');
      const r = run(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts', '--network', file], { CI: 'true' });
      expect(await r.exited).toBe(1);
      expect(r.out()).toContain(`FAILED: ${file}: the first log needs forkAt`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('--keep-running: the log serves a checkpoint with ML-DSA-44 signatures that verify independently; SIGINT stops every process and removes the temporary directory', async () => {
    const r = run(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts', '--keep-running'], { CI: 'true' });
    await waitFor(() => r.out().includes('The network keeps running') || r.child.exitCode !== null, 'the demo to finish its story', 60_000);
    expect(r.child.exitCode, r.out()).toBe(null);

    // Independently of the demo's own client: keys from the network's directory, the log's
    // checkpoint (branch a, size 10) from its URL, a policy of all three witnesses (w2's two keys
    // in a 1-of-2 group), every line checked.
    const dir = /keys, configs and data: (\S+)/.exec(r.out())![1];
    const logUrl = /log log1: (http:\S+)/.exec(r.out())![1];
    const logVkey = witnessVkey(readWitnessKeyFile(join(dir, 'log1', 'log.key')));
    const vkey = (w: string, file = 'witness.key') => witnessVkey(readWitnessKeyFile(join(dir, w, file)));
    const vkeys = { w1: vkey('w1'), w2ed: vkey('w2'), w2pq: vkey('w2', 'witness-pq.key'), w3: vkey('w3') };
    expect(parseVkey(logVkey).type).toBe(0x06);
    expect([vkeys.w1, vkeys.w2ed, vkeys.w2pq, vkeys.w3].map((v) => parseVkey(v).type)).toEqual([0x04, 0x04, 0x06, 0x04]);
    // w2's witness config lists both key files; w1's and w3's track both of w2's keys.
    expect(loadConfig(join(dir, 'w2', 'witness.yaml')).keyFiles).toEqual([join(dir, 'w2', 'witness.key'), join(dir, 'w2', 'witness-pq.key')]);
    for (const w of ['w1', 'w3']) expect(loadConfig(join(dir, w, 'witness.yaml')).witnesses!.filter((x) => x.name === 'w2').map((x) => x.vkey)).toEqual([vkeys.w2ed, vkeys.w2pq]);
    const policy = parsePolicy(
      `log ${logVkey}\nwitness w1 ${vkeys.w1}\nwitness w2-ed ${vkeys.w2ed}\nwitness w2-pq ${vkeys.w2pq}\ngroup w2 any w2-ed w2-pq\nwitness w3 ${vkeys.w3}\ngroup g 2 w1 w2 w3\nquorum g\n`,
    );
    let note = '';
    await waitFor(async () => {
      note = await (await fetch(`${logUrl}/checkpoint`)).text();
      return parseNote(note).signatures.filter((l) => l.name === 'w2.example.local').length === 2;
    }, "w2's two cosignatures on the log's checkpoint", 10_000);
    const v = verifyCosignedCheckpoint(note, policy, { exhaustive: true });
    expect(v, v.reason).toMatchObject({ ok: true, logVerified: true, log: { vkey: logVkey } });
    expect(v.checkpoint?.size).toBe(10n);
    const id = (k: string) => {
      const p = parseVkey(k);
      return `${p.name}+${p.keyId.toString(16).padStart(8, '0')}`;
    };
    expect(v.witnesses.find((w) => w.name === 'w2-ed')).toMatchObject({ status: 'verified', key: id(vkeys.w2ed) });
    expect(v.witnesses.find((w) => w.name === 'w2-pq')).toMatchObject({ status: 'verified', key: id(vkeys.w2pq) });
    expect(v.groups.find((g) => g.name === 'g')!.satisfiedMembers).toEqual(['w1', 'w2']);
    // w2's two lines: a cosignature/v1 one (8-byte timestamp, 64-byte Ed25519 signature) and a 0x06
    // one (an ML-DSA-44 signature of 2420 bytes after an 8-byte timestamp).
    expect(parseNote(note).signatures.filter((l) => l.name === 'w2.example.local').map((l) => l.sig.length).sort((a, b) => a - b)).toEqual([8 + 64, 8 + 2420]);
    // One operator is one vote: w2's two lines alone do not meet the 2 of 3.
    const body = note.slice(0, note.indexOf('\n\n') + 2);
    const alone = body + note.slice(body.length).split('\n').filter((l) => l.startsWith('\u2014 example.local/log1 ') || l.startsWith('\u2014 w2.example.local ')).join('\n') + '\n';
    expect(parseNote(alone).signatures).toHaveLength(3);
    expect(verifyCosignedCheckpoint(alone, policy, { exhaustive: true })).toMatchObject({ ok: false, code: 'quorum' });

    const witnesses = new Map(descendants(r.child.pid!).map((p) => [p, startTime(p)]));
    expect(witnesses.size).toBeGreaterThanOrEqual(3);
    for (const [p, s] of witnesses) expect(alive(p, s)).toBe(true);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(130);
    expect(r.out()).toContain('SIGINT: stopping every process');
    expect(r.out()).toMatch(/stopped\n$/);
    expect(await allGone(witnesses)).toEqual([]);
    expect(existsSync(/keys, configs and data: (\S+)/.exec(r.out())![1])).toBe(false);
  }, 90_000);

  it('SIGINT while the network is still starting leaves no process behind either', async () => {
    const r = run(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts', '--keep-running'], { CI: 'true' });
    await waitFor(() => r.out().includes('starting the witness processes') || r.child.exitCode !== null, 'the demo to start launching', 30_000);
    // Wait until a witness process exists and the network is not up yet: the signal lands mid-launch.
    const isWitness = (p: number) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('serve');
      } catch {
        return false;
      }
    };
    await waitFor(() => descendants(r.child.pid!).some(isWitness) || r.child.exitCode !== null, 'a witness process', 30_000);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(130);
    expect(seenPids.size).toBeGreaterThan(0);
    expect(await allGone(seenPids)).toEqual([]);
  }, 90_000);
});
