// The feeder loop: independence (a slow, lying or broken log never stalls the others), every error
// caught with its reason, exponential backoff with jitter, metrics, stop() without leftovers,
// forwarding to other witnesses (following 409), the stale retry, and the `pull:` config.
import { MAX_CHECKPOINT_BYTES } from '../../src/logs/feeders/tiles.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { AddressInfo } from 'node:net';
import { TestLog } from '../helpers/fork.js';
import { generateKey, parseCosignatureVkey, parseVkey, openNote } from '../../src/note/index.js';
import { openCheckpoint } from '../../src/checkpoint/signed.js';
import { httpRequest } from '../../src/logs/feeders/http.js';
import { createWitnessServer } from '../../src/http/server.js';
import {
  Feeder,
  ForwardTarget,
  PullConfigError,
  createFeeders,
  createTilesSource,
  parsePullConfig,
  type FeederEvent,
  type FeederWitness,
} from '../../src/logs/feeders/index.js';
import { TiledLogServer, startServer, send, hang, witnessCore, waitFor, activeTimers, enc } from './feeders-helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function tiled(log: TestLog) {
  const s = await TiledLogServer.start(log);
  closers.push(() => s.close());
  return s;
}

const pollEvents = (events: FeederEvent[], origin: string) => events.filter((e): e is Extract<FeederEvent, { type: 'poll' }> => e.type === 'poll' && e.origin === origin);

describe('feeders run independently', () => {
  it('a slow, garbage, forged, inconsistent, refused or oversized log never stalls the others; reasons reach metrics', async () => {
    const good = new TestLog('example.com/good').append(3);
    const goodServer = await tiled(good);
    goodServer.publish();

    const slow = await startServer(hang);
    closers.push(() => slow.close());
    const garbage = await startServer((_q, res) => send(res, 200, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a])));
    closers.push(() => garbage.close());
    const huge = await startServer((_q, res) => send(res, 200, 'x'.repeat(MAX_CHECKPOINT_BYTES + 1024)));
    closers.push(() => huge.close());

    const forged = new TestLog('example.com/forged').append(4);
    const forgedServer = await tiled(forged);
    const impostor = new TestLog('example.com/forged', generateKey('example.com/forged'), forged.tree);
    forgedServer.publish(4n, impostor.checkpoint());

    const liar = new TestLog('example.com/liar').append(300);
    const liarServer = await tiled(liar);
    liarServer.publish(10n);

    const refused = await startServer(() => {});
    const refusedUrl = refused.url;
    await refused.close(); // nothing listens there any more: connection refused

    const logs = [good, slow, garbage, huge, forged, liar, refused].map((_, i) => `example.com/${['good', 'slow', 'garbage', 'huge', 'forged', 'liar', 'refused'][i]}`);
    const keyed = [good, new TestLog(logs[1]), new TestLog(logs[2]), new TestLog(logs[3]), forged, liar, new TestLog(logs[6])];
    const core = witnessCore(keyed.map((l) => ({ origin: l.origin, vkeys: [l.key.vkey] })));
    const urls = [goodServer.url, slow.url, garbage.url, huge.url, forgedServer.url, liarServer.url, refusedUrl];
    const registry = new Registry();
    const events: FeederEvent[] = [];
    const set = createFeeders({
      logs: logs.map((origin, i) => ({ origin, pull: { type: 'tiles', url: urls[i], interval: '20ms', timeout: i === 1 ? '1s' : '2s', maxBackoff: '200ms' } })),
      witness: core.witness,
      store: core.store,
      registry: core.registry,
      metricsRegistry: registry,
      onEvent: (e) => {
        events.push(e);
        // The good log grows at every poll; the liar starts lying after its first success.
        if (e.type === 'poll' && e.origin === good.origin) {
          good.append(1);
          goodServer.publish();
        }
        if (e.type === 'poll' && e.origin === liar.origin && e.outcome === 'advanced') {
          liarServer.corrupt = () => true;
          liarServer.publish(300n);
        }
      },
    });
    closers.push(() => set.stop());
    set.start();

    // While the slow log's first request is still hanging, the good log keeps advancing.
    await waitFor(() => pollEvents(events, good.origin).filter((e) => e.outcome === 'advanced').length >= 4, 'the good log to advance 4 times');
    expect(pollEvents(events, logs[1])).toHaveLength(0);
    const expected: Record<string, string> = {
      [logs[1]]: 'timeout',
      [logs[2]]: 'malformed',
      [logs[3]]: 'too-large',
      [logs[4]]: 'bad-signature',
      [logs[5]]: 'inconsistent',
      [logs[6]]: 'network',
    };
    await waitFor(() => Object.entries(expected).every(([o, reason]) => pollEvents(events, o).filter((e) => e.outcome === reason).length >= 2), 'every broken log to fail twice', 10_000);
    for (const [o, reason] of Object.entries(expected)) {
      const st = set.get(o)!.stats();
      expect(st.lastError?.reason, o).toBe(reason);
      expect(st.consecutiveFailures, o).toBeGreaterThanOrEqual(2);
      expect(st.lastError?.message.length, o).toBeGreaterThan(0);
    }
    const goodStats = set.get(good.origin)!.stats();
    expect(goodStats.consecutiveFailures).toBe(0);
    expect(goodStats.lastSuccessAt).toBeGreaterThan(0);
    expect((await core.store.getState(good.origin))!.size).toBeGreaterThanOrEqual(6n);

    const text = await registry.metrics();
    for (const [o, reason] of Object.entries(expected)) {
      expect(text).toMatch(new RegExp(`witness_feeder_polls_total\\{origin="${o.replace(/[./]/g, '\\$&')}",outcome="${reason}"\\} [1-9]`));
      expect(text).toMatch(new RegExp(`witness_feeder_consecutive_failures\\{origin="${o.replace(/[./]/g, '\\$&')}"\\} [1-9]`));
    }
    expect(text).toMatch(/witness_feeder_polls_total\{origin="example\.com\/good",outcome="advanced"\} [1-9]/);
    expect(text).toMatch(/witness_feeder_last_success_timestamp_seconds\{origin="example\.com\/good"\} 1[0-9]{9}/);
    expect(text).toMatch(/witness_feeder_consecutive_failures\{origin="example\.com\/good"\} 0/);
    // The liar advanced once (size 10), then its damaged tiles were refused.
    expect((await core.store.getState(liar.origin))?.size).toBe(10n);

    const t0 = Date.now();
    await set.stop();
    expect(Date.now() - t0).toBeLessThan(1000); // in-flight requests were aborted, not waited out
    expect(set.stats().every((s) => !s.running)).toBe(true);
  });

  it('backoff doubles per consecutive failure up to the cap, jitter stays within ±10%, success resets it', async () => {
    const log = new TestLog('example.com/backoff').append(2);
    const server = await tiled(log);
    server.publish();
    server.checkpointOverride = (res) => send(res, 503, 'unavailable\n');
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const events: FeederEvent[] = [];
    const feeder = new Feeder({
      origin: log.origin,
      source: createTilesSource({ url: server.url, http: { timeoutMs: 1000 } }),
      witness: core.witness,
      store: core.store,
      logs: core.registry,
      intervalMs: 20,
      maxBackoffMs: 200,
      random: () => 0.5, // no jitter
      onEvent: (e) => {
        events.push(e);
        if (pollEvents(events, log.origin).length === 5) server.checkpointOverride = undefined;
      },
    });
    closers.push(() => feeder.stop());
    feeder.start();
    await waitFor(() => pollEvents(events, log.origin).length >= 6, 'six polls');
    await feeder.stop();
    const polls = pollEvents(events, log.origin);
    expect(polls.slice(0, 6).map((e) => [e.outcome, e.consecutiveFailures, e.nextDelayMs])).toEqual([
      ['http', 1, 40],
      ['http', 2, 80],
      ['http', 3, 160],
      ['http', 4, 200],
      ['http', 5, 200],
      ['advanced', 0, 20],
    ]);
    // The loop really waited: the polls are at least the delays apart (timer granularity aside).
    for (let i = 1; i < 6; i++) expect(polls[i].at - polls[i - 1].at).toBeGreaterThanOrEqual(polls[i - 1].nextDelayMs - 5);
    // Jitter: ±10% of the base delay.
    const f = (r: number) => new Feeder({ origin: 'x', source: createTilesSource({ url: server.url, http: { timeoutMs: 10 } }), witness: core.witness, store: core.store, logs: core.registry, intervalMs: 1000, maxBackoffMs: 300_000, random: () => r });
    expect([f(0).delayFor(0), f(0.999999).delayFor(0), f(0).delayFor(3), f(0.5).delayFor(30)]).toEqual([900, 1100, 7200, 300_000]);
  });

  it('stop() aborts a hanging request, resolves, and leaves no timer behind', async () => {
    const slow = await startServer(hang);
    closers.push(() => slow.close());
    const log = new TestLog('example.com/stop').append(1);
    const server = await tiled(log);
    server.publish();
    const core = witnessCore([
      { origin: 'example.com/hang', vkeys: [new TestLog('example.com/hang').key.vkey] },
      { origin: log.origin, vkeys: [log.key.vkey] },
    ]);
    // Warm up the HTTP client (its own connection bookkeeping) before taking the baseline.
    await fetch(server.url + '/checkpoint').then((r) => r.arrayBuffer());
    const baseline = activeTimers();
    const events: FeederEvent[] = [];
    const set = createFeeders({
      logs: [
        { origin: 'example.com/hang', pull: { type: 'tiles', url: slow.url, interval: '20ms', timeout: '30s' } },
        { origin: log.origin, pull: { type: 'tiles', url: server.url, interval: '20ms' } },
      ],
      witness: core.witness,
      store: core.store,
      registry: core.registry,
      onEvent: (e) => events.push(e),
    });
    const ac = new AbortController();
    set.start(ac.signal);
    await waitFor(() => pollEvents(events, log.origin).length >= 3 && slow.requests.length >= 1, 'polls in flight');
    expect(activeTimers()).toBeGreaterThan(baseline);
    const t0 = Date.now();
    ac.abort(); // the external signal stops them too
    await set.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(activeTimers()).toBeLessThanOrEqual(baseline);
    const n = events.length;
    await new Promise((r) => setImmediate(r));
    expect(events.length).toBe(n);
    expect(pollEvents(events, 'example.com/hang')).toHaveLength(0); // aborted polls are not failures
  });
});

describe('feeder edge cases', () => {
  it('retries once when another path advanced the witness meanwhile (stale)', async () => {
    const log = new TestLog('example.com/stale').append(4);
    const server = await tiled(log);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    let raced = false;
    const witness: FeederWitness = {
      add: async (req) => {
        if (!raced) {
          // A push lands between the feeder's read of the state and its submission.
          raced = true;
          expect((await core.witness.add({ oldSize: 0n, proof: [], note: enc(log.checkpoint(2n)) })).kind).toBe('cosigned');
        }
        return core.witness.add(req);
      },
      storeEvidence: (o, e) => core.witness.storeEvidence(o, e),
    };
    const feeder = new Feeder({ origin: log.origin, source: createTilesSource({ url: server.url, http: { timeoutMs: 1000 } }), witness, store: core.store, logs: core.registry, intervalMs: 20 });
    server.publish(4n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 4n });
    expect(server.tileRequests.length).toBeGreaterThan(0); // the retry built a proof from 2
  });

  it('behind, not followed, rate-limited and internal errors are outcomes, not crashes', async () => {
    const log = new TestLog('example.com/edge').append(10);
    const server = await tiled(log);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey], qpd: 1 }]);
    const mk = (origin: string, witness: FeederWitness = core.witness) =>
      new Feeder({ origin, source: createTilesSource({ url: server.url, http: { timeoutMs: 1000 } }), witness, store: core.store, logs: core.registry, intervalMs: 20 });
    const feeder = mk(log.origin);
    server.publish(8n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced' });
    server.publish(10n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'rate-limited' }); // qpd 1
    server.publish(5n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'behind', size: 5n });
    expect(feeder.stats().consecutiveFailures).toBe(0);
    expect(await mk('example.com/unknown').pollOnce()).toMatchObject({ outcome: 'not-configured' });
    const broken = mk(log.origin, {
      add: async () => {
        throw new Error('disk on fire');
      },
      storeEvidence: async () => false,
    });
    server.publish(8n);
    expect(await broken.pollOnce()).toMatchObject({ outcome: 'internal', reason: 'disk on fire' });
  });
});

describe('HTTP layer', () => {
  it('the deadline covers a body that stalls after the headers; the size cap holds without Content-Length', async () => {
    const stall = await startServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('example.com/log\n1');
    });
    closers.push(() => stall.close());
    const t0 = Date.now();
    await expect(httpRequest({ timeoutMs: 100 }, { url: stall.url + '/checkpoint', maxBytes: 1000 })).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(2000);
    const chunked = await startServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 100; i++) res.write('x'.repeat(1000));
      res.end();
    });
    closers.push(() => chunked.close());
    await expect(httpRequest({ timeoutMs: 2000 }, { url: chunked.url, maxBytes: 10_000 })).rejects.toMatchObject({ reason: 'too-large' });
  });

  it('a 409 without a tlog size body is a conflict, not a size', async () => {
    const log = new TestLog('example.com/409').append(3);
    const w = await startServer((_q, res) => send(res, 409, '', 'text/plain'));
    closers.push(() => w.close());
    const t = new ForwardTarget(w.url, { timeoutMs: 1000 });
    const server = await tiled(log);
    const { checkpoint } = openCheckpoint(log.checkpoint(), [parseVkey(log.key.vkey)]);
    expect(await t.forward(checkpoint, enc(log.checkpoint()), createTilesSource({ url: server.url, http: { timeoutMs: 1000 } }))).toMatchObject({ outcome: 'conflict' });
  });
});

describe('forwarding to other witnesses', () => {
  async function remoteWitness(log: TestLog, name: string) {
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }], name);
    const app = createWitnessServer({ witness: core.witness, store: core.store, logs: core.registry });
    await app.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => app.close());
    return { ...core, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/` };
  }

  it('forwards pulled checkpoints with proofs from each witness size, following 409 and stopping when a witness is ahead', async () => {
    const log = new TestLog('example.com/fwd').append(40);
    const server = await tiled(log);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const behind = await remoteWitness(log, 'w.example/behind');
    const empty = await remoteWitness(log, 'w.example/empty');
    const ahead = await remoteWitness(log, 'w.example/ahead');
    expect((await behind.witness.add({ oldSize: 0n, proof: [], note: enc(log.checkpoint(5n)) })).kind).toBe('cosigned');
    expect((await ahead.witness.add({ oldSize: 0n, proof: [], note: enc(log.checkpoint(40n)) })).kind).toBe('cosigned');
    const http = { timeoutMs: 2000 };
    const targets = [behind.url, empty.url, ahead.url].map((u) => new ForwardTarget(u, http));
    const events: FeederEvent[] = [];
    const feeder = new Feeder({
      origin: log.origin,
      source: createTilesSource({ url: server.url, http }),
      witness: core.witness,
      store: core.store,
      logs: core.registry,
      intervalMs: 20,
      forward: targets,
      onEvent: (e) => events.push(e),
    });
    server.publish(10n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 10n });
    const order = [behind.url, empty.url, ahead.url];
    const fwd = () =>
      events
        .filter((e): e is Extract<FeederEvent, { type: 'forward' }> => e.type === 'forward')
        .map((e) => [e.result.url, e.result.outcome, e.result.size] as const)
        .sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
    expect(fwd()).toEqual([
      [behind.url, 'cosigned', 10n], // 409 "5\n", then a proof 5 -> 10 from the tiles
      [empty.url, 'cosigned', 10n],
      [ahead.url, 'ahead', 40n],
    ]);
    expect((await behind.store.getState(log.origin))?.size).toBe(10n);
    expect((await empty.store.getState(log.origin))?.size).toBe(10n);
    expect((await ahead.store.getState(log.origin))?.size).toBe(40n);
    // The 200 carried the remote witness's own cosignature on the checkpoint.
    const lines = events.find((e) => e.type === 'forward' && e.result.url === empty.url && e.result.outcome === 'cosigned') as Extract<FeederEvent, { type: 'forward' }>;
    const note = log.checkpoint(10n);
    const opened = openNote(note.slice(0, note.indexOf('\n\n') + 2) + lines.result.cosignatures, [parseCosignatureVkey(empty.key.vkey)]);
    expect(opened.verified).toHaveLength(1);

    events.length = 0;
    server.publish(25n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 25n });
    expect(fwd()).toEqual([
      [behind.url, 'cosigned', 25n], // the tracked size: straight to a proof 10 -> 25, no 409
      [empty.url, 'cosigned', 25n],
      [ahead.url, 'ahead', 40n],
    ]);
    events.length = 0;
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'unchanged' });
    expect(fwd().map((f) => f[1])).toEqual(['up-to-date', 'up-to-date', 'ahead']);
    expect(feeder.stats().forward.map((f) => f.size)).toEqual([25n, 25n, 40n]);

    // A witness that is down only shows up in its own outcome.
    await behind.store.close();
    events.length = 0;
    server.publish(30n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 30n });
    expect(fwd().map((f) => f[1])).toEqual(['rejected', 'cosigned', 'ahead']);
  });
});

describe('pull config', () => {
  it('accepts the documented keys with defaults', () => {
    expect(parsePullConfig({ type: 'tiles', url: 'https://log.example/' })).toEqual({
      ok: true,
      value: { type: 'tiles', url: 'https://log.example/', intervalMs: 10_000, timeoutMs: 10_000, maxBackoffMs: 300_000, forward: [], tileCache: 256 },
    });
    expect(
      parsePullConfig({ type: 'rekor-v1', url: 'https://rekor.sigstore.dev', interval: '1m', timeout: '5s', maxBackoff: '10m', treeID: '1193050959916656506', forward: ['https://w.example/'] }),
    ).toMatchObject({ ok: true, value: { intervalMs: 60_000, timeoutMs: 5000, maxBackoffMs: 600_000, treeID: '1193050959916656506', forward: ['https://w.example/'] } });
  });

  it('reports every problem with its path', () => {
    const bad = (raw: unknown) => {
      const r = parsePullConfig(raw);
      if (r.ok) throw new Error('accepted');
      return r.problems.map((p) => `${p.path}: ${p.reason}`);
    };
    expect(bad({ type: 'ftp', url: 'x' })).toEqual([expect.stringMatching(/^type: must be one of tiles, rekor-v1, sumdb/), expect.stringMatching(/^url: must be an http\(s\) URL/)]);
    expect(bad({ type: 'tiles' })).toEqual(['url: required']);
    expect(parsePullConfig({ url: 'https://a/' })).toMatchObject({ ok: true, value: { type: 'tiles' } }); // the default type
    expect(bad({ type: 'tiles', url: 'https://a/', interval: 'soon', colour: 'red' })).toEqual(['colour: unknown key']);
    expect(bad({ type: 'tiles', url: 'https://a/', interval: 'soon' })).toEqual([expect.stringMatching(/^interval: must be a duration/)]);
    expect(bad({ type: 'rekor-v1', url: 'https://a/', treeID: 1193050959916656506 })).toEqual([expect.stringMatching(/^treeID: .*quote it/)]);
    expect(bad({ type: 'tiles', url: 'https://a/', treeID: '1' })).toEqual(['treeID: only for type rekor-v1']);
    expect(bad({ type: 'tiles', url: 'https://a/', forward: ['mailto:x'] })).toEqual([expect.stringMatching(/^forward\[0\]: must be an http/)]);
    expect(bad('tiles')).toEqual([expect.stringMatching(/must be a mapping/)]);
    expect(() => createFeeders({ logs: [{ origin: 'a', pull: { type: 'tiles' } }], witness: {} as FeederWitness, store: {} as never, registry: new Map() })).toThrow(PullConfigError);
    expect(() => createFeeders({ logs: [{ origin: 'a', pull: { type: 'tiles' } }], witness: {} as FeederWitness, store: {} as never, registry: new Map() })).toThrow('log "a": pull.url: required');
    // Logs without pull (or disabled) get no feeder.
    expect(createFeeders({ logs: [{ origin: 'a' }, { origin: 'b', disabled: true, pull: { type: 'tiles', url: 'https://b/' } }], witness: {} as FeederWitness, store: {} as never, registry: new Map() }).feeders).toHaveLength(0);
  });
});
