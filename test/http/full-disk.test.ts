// Issue 13 §2 on a real disk: a witness node on LevelDB in a small tmpfs. The disk fills up: 503
// with the reason, /readyz not ready, nothing cosigned; space comes back: the store reopens by
// itself and the witness cosigns again on top of what it had acknowledged. Needs root (mount);
// skipped with a printed reason otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { openNote, parseCosignatureVkey } from '../../src/note/index.js';
import { TestLog } from '../helpers/fork.js';
import { waitFor } from '../gossip/helpers.js';

const mnt = mkdtempSync(join(tmpdir(), 'gw-tmpfs-'));
const mount = () => spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { encoding: 'utf8' });
// Probe at collection time (mounted for real only in beforeAll, so a filtered run leaves no mount).
const probe = mount();
const why = probe.error || probe.status !== 0 ? `cannot mount a tmpfs (needs root): ${probe.error?.message ?? probe.stderr.trim()}` : '';
if (why) {
  rmSync(mnt, { recursive: true, force: true });
  console.warn(`skipping the full-disk test: ${why}`);
} else spawnSync('umount', [mnt]);

/** Fills the file system with one file until ENOSPC; returns its path. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  // Smaller writes fill the last partial chunk.
  try {
    for (;;) writeSync(fd, chunk.subarray(0, 512));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return file;
}

describe.skipIf(why !== '')('a full disk under a real LevelDB store (tmpfs)', () => {
  let node: WitnessNode | undefined;
  const log = new TestLog('example.com/fulldisk');

  beforeAll(async () => {
    const m = mount();
    if (m.status !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
    const yaml =
      `name: w0.example\nkey: ${join(mnt, 'w0.key')}\ndata: ${join(mnt, 'data')}\nhttp: { listen: "127.0.0.1:0" }\n` +
      `logs:\n  - origin: ${log.origin}\n    vkeys: ["${log.key.vkey}"]\n`;
    node = await startWitnessNode(parseConfig(yaml, join(mnt, 'w0.yaml')), { healthCheckMs: 20 });
  });

  afterAll(async () => {
    await node?.close();
    if (!why) spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  const post = async (old: bigint) => {
    const proof = old === 0n ? [] : log.tree.consistencyProof(old, log.tree.size);
    const r = await fetch(`${node!.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointBody(old, proof, log.checkpoint()) });
    return { status: r.status, body: await r.text() };
  };

  it('503 while full, recovery without restart, no rollback', async () => {
    log.append(3);
    expect((await post(0n)).status).toBe(200);
    const filler = fill(mnt);
    let size = 3n;
    let full: { status: number; body: string } | undefined;
    // The first writes may still fit in blocks LevelDB already holds: keep advancing until one fails.
    await waitFor(async () => {
      log.append(1);
      const r = await post(size);
      if (r.status === 200) size = log.tree.size;
      else full = r;
      return r.status !== 200;
    }, 'a write to fail on the full disk', 20_000);
    expect(full!.status).toBe(503);
    expect(full!.body).toMatch(/ENOSPC|no space/i);
    expect(full!.body).not.toContain('—');
    const ready = await fetch(`${node!.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await node!.store.getState(log.origin))!.size).toBe(size);

    unlinkSync(filler);
    await waitFor(async () => (await fetch(`${node!.url}/readyz`)).status === 200, 'the store to reopen after space came back', 60_000);
    const ok = await post(size);
    expect(ok.status).toBe(200);
    const state = (await node!.store.getState(log.origin))!;
    expect(state.size).toBe(log.tree.size);
    expect(openNote(state.cosigned, [parseCosignatureVkey(node!.vkeys[0])]).verified).toHaveLength(1);
    const m = await (await fetch(`${node!.url}/metrics`)).text();
    expect(m).toMatch(new RegExp(`^witness_add_checkpoint_requests_total\\{origin="${log.origin}",status="503"\\} [1-9]`, 'm'));
    expect(m).toMatch(/^witness_store_errors_total\{op="write"\} [1-9]/m);
  });

  it('`serve` exits with status 75 after store.unwritableExitAfter unable to write (what systemd restarts)', async () => {
    const cliLog = new TestLog('example.com/fulldisk-cli').append(2);
    const dir = join(mnt, 'cli');
    mkdirSync(dir);
    const config = join(dir, 'w.yaml');
    writeFileSync(
      config,
      `name: w1.example\nkey: ${join(dir, 'w1.key')}\ndata: ${join(dir, 'data')}\nhttp: { listen: "127.0.0.1:0" }\nstore: { unwritableExitAfter: 500ms }\n` +
        `logs:\n  - origin: ${cliLog.origin}\n    vkeys: ["${cliLog.key.vkey}"]\n`,
    );
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        try {
          lines.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          // not JSON
        }
      }
    });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      await waitFor(() => lines.some((l) => l.msg === 'witness listening'), 'serve to listen', 30_000);
      const url = lines.find((l) => l.msg === 'witness listening')!.url as string;
      const push = (old: bigint) => fetch(`${url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointBody(old, old === 0n ? [] : cliLog.tree.consistencyProof(old, cliLog.tree.size), cliLog.checkpoint()) });
      expect((await push(0n)).status).toBe(200);
      const filler = fill(mnt);
      try {
        let size = 2n;
        await waitFor(async () => {
          cliLog.append(1);
          const r = await push(size);
          if (r.status === 200) size = cliLog.tree.size;
          return r.status === 503;
        }, 'a write to fail on the full disk', 20_000);
        let code: number | null | undefined;
        void exited.then((c) => (code = c));
        await waitFor(() => code !== undefined, 'serve to exit', 30_000);
        expect(code).toBe(75);
        expect(lines.some((l) => l.level === 60 && String(l.msg).startsWith('store unable to write for too long'))).toBe(true);
      } finally {
        unlinkSync(filler);
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
