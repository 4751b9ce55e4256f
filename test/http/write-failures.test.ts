// Issue 13 §2: a store that cannot write (disk full, EIO) gives 503 with a reason, readiness says
// so, metrics carry the real origin and a store-error counter, the node recovers without a restart,
// and after unwritableExitAfter it asks to exit. Nothing is cosigned without committed state.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { StoreUnavailableError, type CasResult, type LogState, type StoreHealth, type VerifiedRecord, type SuspectRecord } from '../../src/witness/store.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { openNote, parseCosignatureVkey } from '../../src/note/index.js';
import { TestLog } from '../helpers/fork.js';
import { waitFor } from '../gossip/helpers.js';
import { freePort } from '../../src/util/ports.js';

/** A MemoryStore whose writes fail while `failure` is set: as a full disk (StoreUnavailableError) or a raw I/O error. */
class FlakyStore extends MemoryStore {
  failure: { kind: 'unavailable' | 'raw'; reason: string } | undefined;

  private check(): void {
    const f = this.failure;
    if (!f) return;
    if (f.kind === 'unavailable') throw new StoreUnavailableError(f.reason);
    throw Object.assign(new Error(f.reason), { code: 'EIO' });
  }
  override async compareAndSet(origin: string, expectedSize: bigint, next: LogState): Promise<CasResult> {
    this.check();
    return super.compareAndSet(origin, expectedSize, next);
  }
  override async addEvidence(e: VerifiedRecord): Promise<boolean> {
    this.check();
    return super.addEvidence(e);
  }
  override async addSuspect(r: SuspectRecord): Promise<void> {
    this.check();
    return super.addSuspect(r);
  }
  override health(): StoreHealth {
    return this.failure ? { writable: false, reason: this.failure.reason } : { writable: true };
  }
}

const dirs: string[] = [];
const nodes: WitnessNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(logs: TestLog[], opts: { store?: MemoryStore; extra?: string; onUnwritableTooLong?: (reason: string) => void; now?: () => number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-writefail-'));
  dirs.push(dir);
  const yaml =
    `name: w0.example\nkey: ${join(dir, 'w0.key')}\ndata: ${join(dir, 'data')}\nhttp: { listen: "127.0.0.1:0" }\n` +
    `logs:\n${logs.map((l) => `  - origin: ${l.origin}\n    vkeys: ["${l.key.vkey}"]\n`).join('')}` +
    (opts.extra ?? '');
  const node = await startWitnessNode(parseConfig(yaml, join(dir, 'w0.yaml')), {
    store: opts.store ?? new MemoryStore(),
    healthCheckMs: 20,
    ...(opts.onUnwritableTooLong ? { onUnwritableTooLong: opts.onUnwritableTooLong } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  nodes.push(node);
  return node;
}

async function post(node: WitnessNode, log: TestLog, old: bigint, size: bigint = log.tree.size) {
  const proof = old === 0n || old === size ? [] : log.tree.consistencyProof(old, size);
  const r = await fetch(`${node.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointBody(old, proof, log.checkpoint(size)) });
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
}

const get = async (node: WitnessNode, path: string) => {
  const r = await fetch(node.url + path);
  return { status: r.status, body: await r.text() };
};

function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('write failures: 503 with a reason, readiness, metrics, recovery without restart', () => {
  it('a full disk, then EIO, then space again', async () => {
    const log = new TestLog('example.com/flaky').append(3);
    const store = new FlakyStore();
    const node = await start([log], { store });
    expect((await post(node, log, 0n)).status).toBe(200);
    expect((await get(node, '/readyz')).status).toBe(200);

    // Disk full: the store refuses writes (StoreUnavailableError) and says so in health().
    store.failure = { kind: 'unavailable', reason: 'ENOSPC: no space left on device' };
    log.append(2);
    const full = await post(node, log, 3n);
    expect(full.status).toBe(503);
    expect(full.body).toContain('ENOSPC: no space left on device');
    expect(Number(full.retryAfter)).toBeGreaterThan(0);
    // No cosignature line was released, and the stored state did not move.
    expect(full.body).not.toContain('—');
    expect((await store.getState(log.origin))!.size).toBe(3n);
    await waitFor(async () => (await get(node, '/readyz')).status === 503, 'readiness to report the store');
    const ready = await get(node, '/readyz');
    expect(ready.body).toContain('ENOSPC');
    // Liveness stays up: the process is alive, a restart would not free the disk.
    expect((await get(node, '/healthz')).status).toBe(200);

    // A raw I/O error from the store (not the typed error) is a 503 too, never a 500.
    store.failure = { kind: 'raw', reason: 'EIO: i/o error, write' };
    const eio = await post(node, log, 3n);
    expect(eio.status).toBe(503);
    expect(eio.body).toContain('EIO');

    let m = await (await fetch(`${node.url}/metrics`)).text();
    expect(sample(m, `witness_add_checkpoint_requests_total{origin="${log.origin}",status="503"}`)).toBe(2);
    expect(sample(m, `witness_add_checkpoint_requests_total{origin="unknown",status="503"}`)).toBeUndefined();
    expect(sample(m, 'witness_store_errors_total{op="write"}')).toBe(2);
    expect(sample(m, 'witness_store_writable')).toBe(0);

    // Space comes back: the same request is cosigned, without a restart, on top of the committed state.
    store.failure = undefined;
    const ok = await post(node, log, 3n);
    expect(ok.status).toBe(200);
    const state = (await store.getState(log.origin))!;
    expect(state.size).toBe(5n);
    // The released cosignature is the one stored (no cosignature without committed state).
    const own = parseCosignatureVkey(node.vkeys[0]);
    expect(openNote(state.cosigned, [own]).verified).toHaveLength(1);
    expect(state.cosigned.endsWith(ok.body)).toBe(true);
    await waitFor(async () => (await get(node, '/readyz')).status === 200, 'readiness after recovery');
    m = await (await fetch(`${node.url}/metrics`)).text();
    expect(sample(m, 'witness_store_writable')).toBe(1);
    // No rollback: an older size is refused as stale (409 with the stored size).
    const old = await post(node, log, 0n, 3n);
    expect(old.status).toBe(409);
    expect(old.body).toBe('5\n');
  });

  it('asks to exit after store.unwritableExitAfter unable to write, and not before it fails', async () => {
    const log = new TestLog('example.com/exit').append(1);
    const store = new FlakyStore();
    const calls: string[] = [];
    const node = await start([log], { store, extra: 'store: { unwritableExitAfter: 200ms }\n', onUnwritableTooLong: (r) => calls.push(r) });
    expect((await post(node, log, 0n)).status).toBe(200);
    expect(calls).toEqual([]);
    store.failure = { kind: 'unavailable', reason: 'ENOSPC: no space left on device' };
    await waitFor(() => calls.length > 0, 'the exit request');
    expect(calls).toEqual(['ENOSPC: no space left on device']);
  });

  it('parses store.unwritableExitAfter (0s: never) and rejects a bad duration', () => {
    const l = new TestLog('example.com/cfg');
    const base = `name: w\nkey: k\ndata: d\nlogs:\n  - { origin: ${l.origin}, vkeys: ["${l.key.vkey}"] }\n`;
    expect(() => parseConfig(base + 'store: { unwritableExitAfter: soon }\n', '/tmp/w.yaml')).toThrow(/store\.unwritableExitAfter: must be a duration/);
    expect(parseConfig(base, '/tmp/w.yaml').store).toBeUndefined();
    expect(parseConfig(base + 'store: {}\n', '/tmp/w.yaml').store).toEqual({ unwritableExitAfterMs: 5 * 60_000 });
    expect(parseConfig(base + 'store: { unwritableExitAfter: 0s }\n', '/tmp/w.yaml').store).toEqual({ unwritableExitAfterMs: 0 });
    expect(parseConfig(base + 'store: { unwritableExitAfter: 2m }\n', '/tmp/w.yaml').store).toEqual({ unwritableExitAfterMs: 120_000 });
  });
});

describe('every counter an alert reads exists at 0 from start-up', () => {
  it('for every configured log, before anything happened', async () => {
    const a = new TestLog('example.com/a');
    const b = new TestLog('example.com/b');
    const node = await start([a, b]);
    const m = await (await fetch(`${node.url}/metrics`)).text();
    for (const origin of [a.origin, b.origin]) {
      expect(sample(m, `witness_evidence_total{origin="${origin}"}`), origin).toBe(0);
      expect(sample(m, `witness_suspects_total{origin="${origin}"}`), origin).toBe(0);
      expect(sample(m, `witness_add_checkpoint_requests_total{origin="${origin}",status="503"}`), origin).toBe(0);
      expect(sample(m, `witness_add_checkpoint_requests_total{origin="${origin}",status="500"}`), origin).toBe(0);
    }
    expect(sample(m, 'witness_store_errors_total{op="write"}')).toBe(0);
    expect(sample(m, 'witness_store_errors_total{op="read"}')).toBe(0);
    expect(sample(m, 'witness_clock_behind_seconds')).toBe(0);
  });
});

describe('clock behind the newest signed timestamp', () => {
  it('refuses to cosign (503 clock-behind naming both times), sets the gauge, and resumes once the clock passes it', async () => {
    const log = new TestLog('example.com/clock').append(2);
    let t = Date.UTC(2026, 0, 10, 12, 0, 0);
    const node = await start([log], { now: () => t });
    expect((await post(node, log, 0n)).status).toBe(200);
    // A restored VM snapshot: the clock is an hour behind the cosignature just signed.
    t -= 3600_000;
    log.append(2);
    const r = await post(node, log, 2n);
    expect(r.status).toBe(503);
    expect(r.body).toContain('2026-01-10T11:00:00.000Z');
    expect(r.body).toContain('2026-01-10T12:00:00.000Z');
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect((await node.store.getState(log.origin))!.size).toBe(2n);
    let m = await (await fetch(`${node.url}/metrics`)).text();
    expect(sample(m, 'witness_clock_behind_seconds')).toBe(3600);
    const ready = await get(node, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('clock');
    // The clock passes the newest timestamp: cosigning resumes by itself.
    t += 3600_000 + 5_000;
    expect((await post(node, log, 2n)).status).toBe(200);
    m = await (await fetch(`${node.url}/metrics`)).text();
    expect(sample(m, 'witness_clock_behind_seconds')).toBe(0);
    expect((await get(node, '/readyz')).status).toBe(200);
  });
});

describe('the status page shows feeder health and readiness problems', () => {
  it('a feeder that keeps failing turns the page from green to "degraded", and status.json says why', async () => {
    const log = new TestLog('example.com/pulled');
    // A port nothing listens on: every poll fails with a network error.
    const port = await freePort();
    const yamlLog = `logs:\n  - origin: ${log.origin}\n    vkeys: ["${log.key.vkey}"]\n    pull: { type: tiles, url: "http://127.0.0.1:${port}/", interval: 20ms, maxBackoff: 40ms, timeout: 2s }\n`;
    const dir = mkdtempSync(join(tmpdir(), 'gw-feederhealth-'));
    dirs.push(dir);
    const node = await startWitnessNode(parseConfig(`name: w0.example\nkey: ${join(dir, 'w0.key')}\ndata: ${join(dir, 'data')}\nhttp: { listen: "127.0.0.1:0" }\n${yamlLog}`, join(dir, 'w0.yaml')), { store: new MemoryStore() });
    nodes.push(node);
    type Status = { health: { ready: boolean; problems: string[] }; logs: { origin: string; feeder?: { status: string; consecutiveFailures: number; lastError?: { reason: string } } }[] };
    let status: Status | undefined;
    await waitFor(async () => {
      status = (await (await fetch(`${node.url}/status.json`)).json()) as Status;
      return status.logs[0].feeder?.status === 'failing';
    }, 'the feeder to be reported as failing');
    const f = status!.logs[0].feeder!;
    expect(f.consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect(f.lastError?.reason).toBe('network');
    // Still ready (the witness can cosign pushes), but the problem is named.
    expect(status!.health.ready).toBe(true);
    expect(status!.health.problems.join('\n')).toContain(`pulling ${log.origin} fails`);
    const page = await (await fetch(`${node.url}/`)).text();
    expect(page).toContain('class="banner trouble"');
    expect(page).not.toContain('class="banner healthy"');
    expect(page).toContain('FAILING');
  });

  it('a store that cannot be read still gets a status page that says so', async () => {
    const log = new TestLog('example.com/unreadable').append(1);
    const store = new MemoryStore();
    // The status reads the evidence counts first (then one page per log), or the whole list.
    store.evidenceCounts = store.listEvidence = async () => {
      throw new Error('EIO: i/o error, read');
    };
    const node = await start([log], { store });
    const r = await fetch(`${node.url}/status.json`);
    expect(r.status).toBe(200);
    const status = (await r.json()) as { health: { problems: string[] } };
    expect(status.health.problems.join('\n')).toContain('the store cannot be read (evidence counts: EIO: i/o error, read)');
    expect(await (await fetch(`${node.url}/`)).text()).toContain('class="banner trouble"');
  });

  it('a store that cannot write makes the page say NOT READY', async () => {
    const log = new TestLog('example.com/page').append(1);
    const store = new FlakyStore();
    const node = await start([log], { store });
    let page = await (await fetch(`${node.url}/`)).text();
    expect(page).toContain('class="banner healthy"');
    store.failure = { kind: 'unavailable', reason: 'ENOSPC: no space left on device' };
    await waitFor(async () => (await (await fetch(`${node.url}/`)).text()).includes('NOT READY'), 'the page to report the store');
    page = await (await fetch(`${node.url}/`)).text();
    expect(page).toContain('ENOSPC: no space left on device');
  });
});
