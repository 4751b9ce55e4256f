// Tiled-log feeders (c2sp.org/tlog-tiles and Go's sumdb): a real log's data end to end (Armory
// Drive: real checkpoints and leaves), real sumdb checkpoints, synthetic trees for advancing
// sequences, the verified-only tile cache, full-for-partial tiles, and proveFromTiles.
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { TestLog } from '../helpers/fork.js';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { hashLeaf } from '../../src/merkle/hash.js';
import { parseSumdbTilePath } from '../../src/merkle/tiles.js';
import { openCheckpoint } from '../../src/checkpoint/signed.js';
import { parseVkey, generateKey } from '../../src/note/index.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { Feeder, createTilesSource, createSumdbSource, proveFromTiles, type FeederEvent, type TiledLogSource } from '../../src/logs/feeders/index.js';
import type { TileFetcher } from '../../src/merkle/tiles.js';
import { TiledLogServer, tileBytes, witnessCore, b64 } from './feeders-helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function serve(log: { tree: MemoryTree; checkpoint(size?: bigint): string }, opts: ConstructorParameters<typeof TiledLogServer>[1] = {}) {
  const s = await TiledLogServer.start(log, opts);
  closers.push(() => s.close());
  return s;
}

function feederFor(origin: string, source: TiledLogSource, core: ReturnType<typeof witnessCore>, events: FeederEvent[] = []) {
  const f = new Feeder({ origin, source, witness: core.witness, store: core.store, logs: core.registry, intervalMs: 20, onEvent: (e) => events.push(e), random: () => 0.5 });
  closers.push(() => f.stop());
  return f;
}

describe('tiles feeder: the real Armory Drive log end to end', () => {
  const armory = fixture('armory-drive-log-real.json');

  it('follows the real checkpoints 0 -> 1 -> 2 with the proof built from tiles of the real leaves', async () => {
    const tree = new MemoryTree();
    for (const l of armory.leaves) {
      const data = Buffer.from(l.data_b64, 'base64');
      expect(Buffer.from(hashLeaf(data)).toString('hex')).toBe(l.leaf_hash_hex);
      tree.append(data);
    }
    // The real log publishes its real checkpoints; its tiles are built from its real leaves. (The
    // Armory log uses the older "serverless" layout; here its data is served as tlog-tiles.)
    const notes: string[] = armory.checkpoints.map((c: { note: string }) => c.note);
    const log = { tree, checkpoint: (size = tree.size) => notes[Number(size)] };
    const server = await serve(log);
    const core = witnessCore([{ origin: armory.origin, vkeys: [armory.log_vkey] }]);
    const source = createTilesSource({ url: server.url + '/', http: { timeoutMs: 2000 } });
    const feeder = feederFor(armory.origin, source, core);

    server.publish(0n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 0n });
    server.publish(1n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 1n });
    expect(server.tileRequests).toEqual([]); // old 0: no proof, no tiles
    server.publish(2n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 2n });
    // Proof 1 -> 2 is [leaf hash 1], read from the partial level-0 tile of width 2.
    expect(server.tileRequests).toEqual(['tile/0/000.p/2']);
    const proof = await source.proof(1n, openCheckpoint(notes[2], [parseVkey(armory.log_vkey)]).checkpoint);
    expect(proof.proof.map(b64)).toEqual(armory.derived_proofs.consistency_1_to_2_b64);
    const state = await core.store.getState(armory.origin);
    expect(state?.size).toBe(2n);
    expect(state?.note).toBe(notes[2]);
    // Re-polling the same checkpoint re-cosigns it (unchanged) without fetching anything new.
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'unchanged' });
    expect(server.tileRequests).toHaveLength(1);
  });
});

describe('sumdb feeder', () => {
  const sumdb = fixture('checkpoints-go-sumdb-real.json');
  const real = (size: number) => sumdb.vectors.find((v: { tree_size?: number; expect: { unverified?: string[] } }) => v.tree_size === size).note as string;

  it('accepts a real sum.golang.org checkpoint at old 0 and asks for real-size tiles with the height in the path', async () => {
    const sizes = [1514086, 6476701];
    let served = real(sizes[0]);
    const server = await serve({ tree: new MemoryTree(), checkpoint: () => served }, { layout: 'sumdb' });
    server.publish(0n, served);
    const core = witnessCore([{ origin: 'go.sum database tree', vkeys: [sumdb.verifier_key] }]);
    const feeder = feederFor('go.sum database tree', createSumdbSource({ url: server.url, http: { timeoutMs: 2000 } }), core);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 1514086n });
    // The real tiles are not in the fixtures: the proof 1514086 -> 6476701 cannot be built here.
    // The feeder asks for the right sumdb tiles, gets 404, and fails cleanly with the reason.
    served = real(sizes[1]);
    server.publish(0n, served);
    const r = await feeder.pollOnce();
    expect(r).toMatchObject({ outcome: 'http' });
    expect(r.reason).toMatch(/tile\/8\/.* HTTP 404/);
    expect(server.tileRequests.length).toBeGreaterThan(0);
    for (const p of server.tileRequests) {
      const t = parseSumdbTilePath(p);
      expect(t, p).not.toBeNull();
      expect(t!.height).toBe(8);
      // Partial widths are those implied by the real size 6476701 (and full-tile fallbacks).
      if (t!.width !== 256) expect(t!.width).toBe(Number((6476701n >> BigInt(8 * t!.level)) % 256n));
    }
    expect((await core.store.getState('go.sum database tree'))?.size).toBe(1514086n);
    expect(feeder.stats()).toMatchObject({ consecutiveFailures: 1, lastError: { reason: 'http' } });
  });

  it('a real checkpoint carrying an extra (unknown) witness signature is accepted verbatim', async () => {
    const withExtra = sumdb.vectors.find((v: { tree_size?: number }) => v.tree_size === 15067302).note as string;
    expect(withExtra.split('\n\n')[1].trim().split('\n')).toHaveLength(2);
    const server = await serve({ tree: new MemoryTree(), checkpoint: () => withExtra }, { layout: 'sumdb' });
    server.publish(0n, withExtra);
    const core = witnessCore([{ origin: 'go.sum database tree', vkeys: [sumdb.verifier_key] }]);
    const feeder = feederFor('go.sum database tree', createSumdbSource({ url: server.url, http: { timeoutMs: 2000 } }), core);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 15067302n });
  });

  it('follows a synthetic sumdb-shaped tree through proofs built from /tile/8/ tiles', async () => {
    const log = new TestLog('go.sum database tree', generateKey('sum.test.example'));
    const server = await serve(log, { layout: 'sumdb' });
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const feeder = feederFor(log.origin, createSumdbSource({ url: server.url, http: { timeoutMs: 2000 } }), core);
    for (const n of [3, 300, 70_000 - 303, 1]) {
      log.append(n);
      server.publish();
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: log.tree.size });
    }
    expect(server.tileRequests.every((p) => p.startsWith('tile/8/'))).toBe(true);
  });
});

describe('tiles feeder: synthetic logs', () => {
  it('advances through a sequence, fetching only the tiles the proofs need, full tiles once', async () => {
    const log = new TestLog('example.com/tiles');
    const server = await serve(log);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const source = createTilesSource({ url: server.url, http: { timeoutMs: 2000 } });
    const feeder = feederFor(log.origin, source, core);
    let prev = 0n;
    for (const n of [5, 295, 400, 1, 65_536 - 701, 4_464, 256]) {
      log.append(n);
      server.publish();
      const before = server.tileRequests.length;
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: log.tree.size });
      // A proof has at most ~2 nodes per tree level, each in one tile: a handful of requests.
      const made = server.tileRequests.length - before;
      if (prev > 0n) expect(made).toBeGreaterThan(0);
      expect(made).toBeLessThanOrEqual(8);
      prev = log.tree.size;
    }
    const full = server.tileRequests.filter((p) => !p.includes('.p/'));
    expect(new Set(full).size).toBe(full.length); // verified full tiles are cached: never fetched twice
    expect(source.cache.size).toBeGreaterThan(0);
  });

  it('uses a full tile where a partial one is asked, and falls back to the full tile when partials are deleted', async () => {
    for (const opts of [{ fullForPartial: true }, { deletePartials: true }]) {
      const log = new TestLog('example.com/full-partial').append(300);
      const server = await serve(log, opts);
      const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
      const feeder = feederFor(log.origin, createTilesSource({ url: server.url, http: { timeoutMs: 2000 } }), core);
      server.publish(300n);
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced' });
      log.append(600); // the tree has full tiles beyond the published checkpoint
      server.publish(700n);
      expect(await feeder.pollOnce(), JSON.stringify(opts)).toMatchObject({ outcome: 'advanced', size: 700n });
      if (opts.deletePartials) expect(server.tileRequests).toContain('tile/0/002'); // the fallback
    }
  });

  it('builds the proof 300 -> 600 from exactly the three tiles its nodes live in', async () => {
    const log = new TestLog('example.com/exact').append(600);
    const server = await serve(log);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const feeder = feederFor(log.origin, createTilesSource({ url: server.url, http: { timeoutMs: 2000 } }), core);
    server.publish(300n);
    await feeder.pollOnce();
    server.publish(600n);
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 600n });
    // [256, 300) lives in level-0 tile 1 (full at 600), [512, 600) in level-0 tile 2 (width 88),
    // and MTH([0, 256)) is hash 0 of the level-1 tile (width 600 >> 8 = 2).
    expect([...server.tileRequests].sort()).toEqual(['tile/0/001', 'tile/0/002.p/88', 'tile/1/000.p/2']);
  });

  it('a verified cached tile is used even when the log later serves a different copy', async () => {
    const log = new TestLog('example.com/cache').append(700);
    const server = await serve(log);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const source = createTilesSource({ url: server.url, http: { timeoutMs: 2000 } });
    const feeder = feederFor(log.origin, source, core);
    for (const n of [100n, 300n, 600n]) {
      server.publish(n);
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced' });
    }
    expect(source.cache.has(1, 0n, 2)).toBe(true); // verified against the checkpoint of 600: cached
    server.corrupt = (p) => p === 'tile/1/000.p/2';
    server.publish(700n); // the proof 600 -> 700 needs MTH([0, 512)) from that tile again
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 700n });
    expect(server.tileRequests.filter((p) => p === 'tile/1/000.p/2')).toHaveLength(1);
  });

  it('a failed proof evicts what it touched and is rebuilt from fresh tiles; lying tiles never become evidence', async () => {
    const log = new TestLog('example.com/liar').append(700);
    const server = await serve(log);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const source = createTilesSource({ url: server.url, http: { timeoutMs: 2000 } });
    const events: FeederEvent[] = [];
    const feeder = feederFor(log.origin, source, core, events);
    for (const n of [100n, 300n, 600n]) {
      server.publish(n);
      await feeder.pollOnce();
    }
    expect(source.cache.has(1, 0n, 2)).toBe(true);
    // The log serves a damaged tile the proof 600 -> 700 needs (with the cached tile 1/000.p/2).
    server.corrupt = (p) => p === 'tile/0/002.p/188';
    server.publish(700n);
    const r = await feeder.pollOnce();
    expect(r).toMatchObject({ outcome: 'inconsistent' });
    // The first proof used the cache, so it was rebuilt from fresh tiles (1/000.p/2 fetched again),
    // failed again, and the witness refused it. Everything it touched is out of the cache.
    // (first at 600, again for the fresh rebuild, again when the feeder tried to prove the suspect)
    expect(server.tileRequests.filter((p) => p === 'tile/1/000.p/2')).toHaveLength(3);
    expect(server.tileRequests.filter((p) => p === 'tile/0/002.p/188').length).toBeGreaterThanOrEqual(2);
    expect(source.cache.has(1, 0n, 2)).toBe(false);
    expect(source.cache.has(0, 2n, 188)).toBe(false);
    expect((await core.store.listSuspects(log.origin)).length).toBe(1); // the witness's suspect record
    expect(await core.store.listEvidence()).toHaveLength(0); // damaged tiles prove nothing
    expect((await core.store.getState(log.origin))?.size).toBe(600n);

    // The log stops lying: the next poll succeeds, and the suspect is found consistent.
    server.corrupt = () => false;
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 700n });
    expect(await core.store.listEvidence()).toHaveLength(0);
    expect(events.filter((e) => e.type === 'evidence' || e.type === 'evidence-error')).toHaveLength(0);
  });
});

describe('proveFromTiles', () => {
  const fetcherFor =
    (tree: MemoryTree): TileFetcher =>
    async (level, index, width) =>
      tileBytes(tree, level, index, width);
  const signed = (l: TestLog, size: bigint) => openCheckpoint(l.checkpoint(size), [parseVkey(l.key.vkey)]);

  for (const [m, forkAt, n] of [
    [4n, 2n, 9n], // m a power of two
    [5n, 3n, 12n],
    [256n, 100n, 700n], // a power of two spanning a whole tile
    [300n, 299n, 301n],
    [1n, 0n, 2n],
  ] as const) {
    it(`m=${m} (fork after ${forkAt} leaves) against a branch of ${n}: evidence that verifies`, async () => {
      const x = new TestLog('example.com/fork').append(Number(m));
      const y = x.fork(forkAt).append(Number(n - forkAt), 'other');
      const r = await proveFromTiles(signed(x, m), signed(y, n), fetcherFor(y.tree));
      expect(r.kind).toBe('evidence');
      if (r.kind !== 'evidence') return;
      const v = verifyEvidence(r.evidence, () => [parseVkey(x.key.vkey)]);
      expect(v).toMatchObject({ ok: true });
      expect(r.evidence.h).toEqual(y.tree.root(m));
    });
  }

  it('the larger checkpoint may come first; consistent pairs and foreign tiles are told apart', async () => {
    const x = new TestLog('example.com/p').append(40);
    const y = x.fork(10n).append(50, 'y');
    expect((await proveFromTiles(signed(y, 60n), signed(x, 20n), fetcherFor(y.tree))).kind).toBe('evidence');
    expect(await proveFromTiles(signed(x, 20n), signed(x, 40n), fetcherFor(x.tree))).toEqual({ kind: 'consistent' });
    expect(await proveFromTiles(signed(x, 8n), signed(y, 60n), fetcherFor(y.tree))).toEqual({ kind: 'consistent' }); // shared prefix
    const z = x.fork(5n).append(70, 'z');
    expect((await proveFromTiles(signed(x, 20n), signed(y, 60n), fetcherFor(z.tree))).kind).toBe('tiles-mismatch');
    expect((await proveFromTiles(signed(x, 30n), signed(y, 30n), fetcherFor(y.tree))).kind).toBe('evidence'); // same size
    expect(await proveFromTiles(signed(x, 0n), signed(y, 30n), fetcherFor(y.tree))).toEqual({ kind: 'consistent' });
  });
});
