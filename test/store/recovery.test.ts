// Write failures (issue 13 §2, the store side): a failed batch makes the store unwritable with a
// reason; it reopens and re-verifies itself in the background and takes writes again; nothing is
// acknowledged without being durable, and nothing acknowledged is rolled back. A full disk on a
// small tmpfs when this runs as root (skipped, with the reason printed, otherwise).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { LevelStore } from '../../src/store/level.js';
import { HIGHWATER_FILE } from '../../src/store/highwater.js';
import { StoreUnavailableError, type LogState } from '../../src/witness/store.js';
import { cosigner, generateKey, parseNote, signatureLines } from '../../src/note/index.js';
import { waitFor } from '../helpers/wait.js';

const log = new TestLog('recovery.example/log').append(300);
const signer = cosigner(generateKey('recovery.example/witness'), () => 1_800_000_000n);
function real(size: number, pad = 0): LogState {
  const note = log.checkpoint(BigInt(size));
  return { size: BigInt(size), root: log.tree.root(BigInt(size)), note, cosigned: note + signatureLines(parseNote(note).textBytes, [signer]) + 'x'.repeat(pad), updatedAt: 1 };
}

const until = (cond: () => boolean, what: string, ms = 20_000) => waitFor(cond, { what, timeoutMs: ms });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
async function newDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gossip-witness-recovery-'));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return join(d, 'data');
}
async function open(dir: string, opts: Parameters<typeof LevelStore.open>[1] = {}): Promise<LevelStore> {
  const s = await LevelStore.open(dir, { retryMs: { min: 20, max: 200 }, ...opts });
  cleanups.push(() => s.close());
  return s;
}

describe('LevelStore write failures', () => {
  it('a journal failure after LevelDB synced: unwritable, then recovers one group ahead (never acknowledged, never lost)', async () => {
    const dir = await newDir();
    let fail = 0;
    const s = await open(dir, { faults: { journal: () => (fail-- > 0 ? Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }) : undefined) } });
    for (let n = 0; n < 3; n++) await s.compareAndSet(log.origin, BigInt(n), real(n + 1));
    fail = 1;
    const err = await s.compareAndSet(log.origin, 3n, real(4)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(s.health()).toMatchObject({ writable: false, reason: expect.stringMatching(/EIO/) });
    await expect(s.compareAndSet(log.origin, 3n, real(4))).rejects.toBeInstanceOf(StoreUnavailableError);
    await until(() => s.health().writable, 'recovery');
    // LevelDB had synced size 4 (its cosignature never left): after the reopen it is the state.
    expect((await s.getState(log.origin))?.size).toBe(4n);
    expect(await s.compareAndSet(log.origin, 4n, real(5))).toEqual({ ok: true });
    await s.close();
    expect((await (await open(dir)).getState(log.origin))?.size).toBe(5n);
  });

  it('keeps retrying with backoff while the reopen fails, saying why, then takes writes again', async () => {
    const dir = await newDir();
    let reopenFailures = 3;
    let batchFails = true;
    const s = await open(dir, {
      faults: {
        batch: () => (batchFails ? ((batchFails = false), Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })) : undefined),
        reopen: () => (reopenFailures-- > 0 ? new Error('ENOSPC: no space left on device, open') : undefined),
      },
    });
    await expect(s.compareAndSet(log.origin, 0n, real(1))).rejects.toThrow(/ENOSPC/);
    await until(() => reopenFailures < 2, 'two failed reopens');
    const h = s.health();
    expect(h.writable).toBe(false);
    expect(!h.writable && h.reason).toMatch(/last attempt: ENOSPC/);
    expect(!h.writable && h.reason.split("last attempt").length).toBe(2); // the reason does not grow with each attempt
    await until(() => s.health().writable, 'recovery');
    expect(await s.getState(log.origin)).toBeUndefined();
    expect(await s.compareAndSet(log.origin, 0n, real(1))).toEqual({ ok: true });
  });

  it('damage found while reopening keeps it unwritable for good, with the reason', async () => {
    const dir = await newDir();
    let fail = false;
    const s = await open(dir, { faults: { batch: () => (fail ? new Error('EIO') : undefined) } });
    await s.compareAndSet(log.origin, 0n, real(1));
    fail = true;
    await unlink(join(dir, HIGHWATER_FILE)); // lost while the store was failing
    await expect(s.compareAndSet(log.origin, 1n, real(2))).rejects.toBeInstanceOf(StoreUnavailableError);
    await until(() => {
      const h = s.health();
      return !h.writable && /is damaged/.test(h.reason);
    }, 'the damage to be reported');
    await expect(s.compareAndSet(log.origin, 1n, real(2))).rejects.toThrow(/journal .* is missing/);
    expect((await s.getState(log.origin))?.size).toBe(1n);
  });
});

/** Mounts a small tmpfs, or returns why it cannot. */
function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs is not permitted here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})`;
  }
}

describe('LevelStore on a full disk (tmpfs)', () => {
  it('full disk: writes refused with the reason, nothing acknowledged lost; space back: recovers by itself', async () => {
    const mnt = await mkdtemp(join(tmpdir(), 'gossip-witness-tmpfs-'));
    cleanups.push(() => rm(mnt, { recursive: true, force: true }));
    const why = mountTmpfs(mnt, '4m');
    if (why) {
      process.stdout.write(`skipped the tmpfs full-disk test: ${why}\n`);
      return;
    }
    cleanups.push(async () => void execFileSync('umount', [mnt]));
    const dir = join(mnt, 'data');
    const s = await open(dir);
    let acked = 0;
    for (; acked < 2; acked++) expect(await s.compareAndSet(log.origin, BigInt(acked), real(acked + 1, 20_000))).toEqual({ ok: true });
    // Fill the disk.
    const filler = join(mnt, 'filler');
    await writeFile(filler, Buffer.alloc(8 * 1024 * 1024)).catch(() => {});
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      try {
        const r = await s.compareAndSet(log.origin, BigInt(acked), real(acked + 1, 20_000));
        expect(r).toEqual({ ok: true });
        acked++;
      } catch (e) {
        refused = e;
      }
    }
    process.stdout.write(`tmpfs: ${acked} acknowledged, then refused: ${(refused as Error)?.message}\n`);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toMatch(/ENOSPC|space|IO error/i);
    expect(s.health().writable).toBe(false);
    expect((await s.getState(log.origin))?.size).toBeGreaterThanOrEqual(BigInt(acked));
    // While the disk stays full, reopening fails and is retried (a full disk is not damage).
    await until(() => {
      const h = s.health();
      return !h.writable && /last attempt/.test(h.reason);
    }, 'a failed reopen on the full disk');
    expect(s.health()).toMatchObject({ writable: false, reason: expect.not.stringMatching(/is damaged/) });
    process.stdout.write(`tmpfs: while full: ${(s.health() as { reason: string }).reason}\n`);
    // Space comes back.
    await unlink(filler);
    await until(() => s.health().writable, 'recovery after space came back', 30_000);
    const cur = (await s.getState(log.origin))!.size;
    expect(cur).toBeGreaterThanOrEqual(BigInt(acked));
    expect(await s.compareAndSet(log.origin, cur, real(Number(cur) + 1))).toEqual({ ok: true });
    await s.close();
    const again = await LevelStore.open(dir);
    expect((await again.getState(log.origin))?.size).toBe(cur + 1n);
    await again.close();
  });
});
