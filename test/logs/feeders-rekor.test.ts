// Rekor v1 feeders against recorded real answers, shaped exactly as Rekor's API answers:
//  - the real Rekor multi-shard /api/v1/log answer, assembled from the real checkpoints of the
//    three shards (test/fixtures/checkpoints-rekor-real.json): active shard + inactiveShards;
//  - the real consistency proof of Google's Icarus CT log (129596132 -> 129721434) with its two
//    real signed tree heads as RFC 6962 (0x05) checkpoints, served through a Rekor-shaped API
//    (hex hashes, treeID, firstSize >= 1): a real proof verified end to end by the feeder path;
//  - garbage, errors and bad proofs.
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { parseNote } from '../../src/note/note.js';
import { parseVkey } from '../../src/note/index.js';
import { rfc6962Scheme } from '../../src/note/sigtypes/rfc6962.js';
import { openCheckpoint } from '../../src/checkpoint/signed.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { concatBytes, u32be, u64be } from '../../src/util/bytes.js';
import { createFeeders, Feeder, createRekorV1Source, parseLogInfo, type FeederEvent, type FeederSet } from '../../src/logs/feeders/index.js';
import { startServer, send, witnessCore, hex, b64, enc, type TestServer } from './feeders-helpers.js';

const rekor = fixture('checkpoints-rekor-real.json');
const REKOR_VKEY: string = rekor.verifier_key;
const realNotes: string[] = rekor.vectors.filter((v: { expect: { result: string } }) => v.expect.result === 'valid').map((v: { note: string }) => v.note);
const realRekor = (origin: string, size: number): string => {
  const n = realNotes.find((t) => t.startsWith(`${origin}\n${size}\n`));
  if (!n) throw new Error(`no real checkpoint ${origin} ${size}`);
  return n;
};

const ACTIVE = '1193050959916656506';
const INACTIVE = '2605736670972794746';
/** The early shard, whose checkpoints have the origin "Rekor" (its tree ID here is our attribution). */
const FIRST = '3904496407287907110';

/** A LogInfo shard object from a real checkpoint: rootHash (hex) and treeSize are its own. */
function shard(treeID: string, note: string) {
  const cp = parseCheckpoint(parseNote(note).text);
  return { rootHash: hex(cp.root), treeSize: Number(cp.size), signedTreeHead: note, treeID };
}

/** The real Rekor multi-shard answer shape: the active shard's fields at top level, then inactiveShards. */
function logInfo(active: { treeID: string; note: string }, inactive: { treeID: string; note: string }[]) {
  return JSON.stringify({ ...shard(active.treeID, active.note), inactiveShards: inactive.map((s) => shard(s.treeID, s.note)) });
}

interface RekorServer {
  server: TestServer;
  info: string;
  proofQueries: URLSearchParams[];
  proof: (q: URLSearchParams) => { status: number; body: string };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function rekorServer(info: string): Promise<RekorServer> {
  const r: RekorServer = {
    server: undefined as unknown as TestServer,
    info,
    proofQueries: [],
    proof: () => ({ status: 400, body: '{"code":400,"message":"no proof"}' }),
  };
  r.server = await startServer((req, res, path, q) => {
    if (path === 'api/v1/log') return send(res, 200, r.info, 'application/json');
    if (path === 'api/v1/log/proof') {
      r.proofQueries.push(q);
      // Rekor: firstSize minimum 1, lastSize required.
      if (!(Number(q.get('firstSize')) >= 1) || !(Number(q.get('lastSize')) >= 1)) return send(res, 400, '{"code":400,"message":"bad size"}', 'application/json');
      const a = r.proof(q);
      return send(res, a.status, a.body, 'application/json');
    }
    send(res, 404, '{"code":404}', 'application/json');
  });
  closers.push(() => r.server.close());
  return r;
}

function trackFeeders(set: FeederSet): FeederSet {
  closers.push(() => set.stop());
  return set;
}

describe('rekor-v1 feeder: the real multi-shard answer', () => {
  it('parses the real shape and picks each configured shard, active or inactive', async () => {
    const info = logInfo({ treeID: ACTIVE, note: realRekor(`rekor.sigstore.dev - ${ACTIVE}`, 649584076) }, [
      { treeID: INACTIVE, note: realRekor(`rekor.sigstore.dev - ${INACTIVE}`, 75610772) },
      { treeID: FIRST, note: realRekor('Rekor', 798034) },
    ]);
    expect(parseLogInfo(enc(info)).map((s) => [s.treeID, s.treeSize, s.active])).toEqual([
      [ACTIVE, 649584076, true],
      [INACTIVE, 75610772, false],
      [FIRST, 798034, false],
    ]);
    const r = await rekorServer(info);
    const origins = [`rekor.sigstore.dev - ${ACTIVE}`, `rekor.sigstore.dev - ${INACTIVE}`, 'Rekor'];
    const core = witnessCore(origins.map((origin) => ({ origin, vkeys: [REKOR_VKEY] })));
    const events: FeederEvent[] = [];
    const set = trackFeeders(
      createFeeders({
        logs: [
          // the tree ID defaults to the origin's "<host> - <treeID>" suffix
          { origin: origins[0], pull: { type: 'rekor-v1', url: r.server.url, interval: '20ms' } },
          { origin: origins[1], pull: { type: 'rekor-v1', url: r.server.url + '/', interval: '20ms', treeID: INACTIVE } },
          { origin: origins[2], pull: { type: 'rekor-v1', url: r.server.url, interval: '20ms', treeID: FIRST } },
        ],
        witness: core.witness,
        store: core.store,
        registry: core.registry,
        onEvent: (e) => events.push(e),
      }),
    );
    const sizes = [649584076n, 75610772n, 798034n];
    for (const [i, f] of set.feeders.entries()) expect(await f.pollOnce()).toMatchObject({ outcome: 'advanced', size: sizes[i] });
    for (const [i, origin] of origins.entries()) {
      const st = await core.store.getState(origin);
      expect(st?.size).toBe(sizes[i]);
      expect(st?.note).toBe(JSON.parse(info).inactiveShards[i - 1]?.signedTreeHead ?? JSON.parse(info).signedTreeHead);
    }
    expect(r.proofQueries).toEqual([]); // old 0: never a proof request with firstSize=0
  });

  it('follows a shard across real checkpoints (Timestamp extension line included); a bad proof is refused and recorded as suspect', async () => {
    const origin = `rekor.sigstore.dev - ${INACTIVE}`;
    const active = { treeID: ACTIVE, note: realRekor(`rekor.sigstore.dev - ${ACTIVE}`, 28710539) };
    const first = realRekor(origin, 23083062);
    expect(first).toContain('\nTimestamp: ');
    const r = await rekorServer(logInfo(active, [{ treeID: INACTIVE, note: first }]));
    const core = witnessCore([{ origin, vkeys: [REKOR_VKEY] }]);
    const feeder = new Feeder({ origin, source: createRekorV1Source({ url: r.server.url, treeID: INACTIVE, http: { timeoutMs: 2000 } }), witness: core.witness, store: core.store, logs: core.registry, intervalMs: 20 });
    closers.push(() => feeder.stop());
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 23083062n });
    // The next real checkpoint of that shard; the real proof between them is not recorded, so
    // the server answers a well-formed but wrong one.
    r.info = logInfo(active, [{ treeID: INACTIVE, note: realRekor(origin, 27657875) }]);
    r.proof = () => ({ status: 200, body: JSON.stringify({ rootHash: hex(new Uint8Array(32)), hashes: [hex(new Uint8Array(32).fill(1)), hex(new Uint8Array(32).fill(2))] }) });
    const res = await feeder.pollOnce();
    expect(res).toMatchObject({ outcome: 'inconsistent', size: 27657875n });
    expect(r.proofQueries.map((q) => q.toString())).toEqual([`firstSize=23083062&lastSize=27657875&treeID=${INACTIVE}`]);
    expect(await core.store.listSuspects(origin)).toHaveLength(1);
    expect((await core.store.getState(origin))?.size).toBe(23083062n);
    // Rekor answers 400 to what it cannot prove: a clean failure with the reason.
    r.proof = () => ({ status: 400, body: '{"code":400,"message":"invalid"}' });
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'http', reason: expect.stringContaining('HTTP 400') });
    expect(feeder.stats()).toMatchObject({ consecutiveFailures: 2, lastError: { reason: 'http' }, outcomes: { advanced: 1, inconsistent: 1, http: 1 } });
  });

  it('garbage answers fail with a reason, never a crash', async () => {
    const origin = `rekor.sigstore.dev - ${ACTIVE}`;
    const good = logInfo({ treeID: ACTIVE, note: realRekor(origin, 33786586) }, []);
    const r = await rekorServer(good);
    const core = witnessCore([{ origin, vkeys: [REKOR_VKEY] }]);
    const feeder = new Feeder({ origin, source: createRekorV1Source({ url: r.server.url, treeID: ACTIVE, http: { timeoutMs: 2000 } }), witness: core.witness, store: core.store, logs: core.registry, intervalMs: 20 });
    closers.push(() => feeder.stop());
    const cases: [string, string][] = [
      ['<html>not json</html>', 'malformed'],
      ['{"treeID": 5}', 'malformed'],
      [logInfo({ treeID: '42', note: realRekor(origin, 33786586) }, []), 'malformed'], // no such shard
      [JSON.stringify({ ...JSON.parse(good), signedTreeHead: 'garbage' }), 'malformed'],
      [logInfo({ treeID: ACTIVE, note: realRekor(`rekor.sigstore.dev - ${INACTIVE}`, 75610772) }, []), 'wrong-origin'],
      [logInfo({ treeID: ACTIVE, note: rekor.vectors.find((v: { case: string }) => v.case === 'invalid-checkpoint-signature_fail').note }, []), 'bad-signature'],
    ];
    for (const [body, outcome] of cases) {
      r.info = body;
      const res = await feeder.pollOnce();
      expect(res.outcome, `${body.slice(0, 60)} -> ${res.reason}`).toBe(outcome);
    }
    r.info = good;
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced' });
    r.info = logInfo({ treeID: ACTIVE, note: realRekor(origin, 34184838) }, []);
    for (const [body, outcome] of [
      ['{"hashes": ["zz"]}', 'malformed'],
      [JSON.stringify({ hashes: Array.from({ length: 64 }, () => hex(new Uint8Array(32))) }), 'malformed'],
      ['[]', 'malformed'],
    ]) {
      r.proof = () => ({ status: 200, body });
      expect((await feeder.pollOnce()).outcome).toBe(outcome);
    }
    expect(r.proofQueries.every((q) => q.get('firstSize') === '33786586')).toBe(true);
  });
});

describe('rekor-v1 feeder: a real consistency proof end to end (Icarus, Rekor-shaped)', () => {
  const icarus = fixture('consistency-ct-icarus-real.json');
  const name = 'ct.googleapis.com/icarus';
  const spki = Buffer.from(icarus.log.public_key_der_b64, 'base64');
  const keyId = rfc6962Scheme.keyId(name, spki);
  const vkey = `${name}+${keyId.toString(16).padStart(8, '0')}+${b64(concatBytes(Uint8Array.of(0x05), spki))}`;
  /** The real signed tree head as a checkpoint with an RFC 6962 (0x05) note signature. */
  const sthNote = (sth: { tree_size: number; timestamp: number; sha256_root_hash: string; tree_head_signature: string }) => {
    const sig = concatBytes(u32be(keyId), u64be(BigInt(sth.timestamp)), Buffer.from(sth.tree_head_signature, 'base64'));
    return `${name}\n${sth.tree_size}\n${sth.sha256_root_hash}\n\n\u2014 ${name} ${b64(sig)}\n`;
  };
  const notes = [sthNote(icarus.sth_first), sthNote(icarus.sth_second)];
  const vector = (n: string) => icarus.vectors.find((v: { name: string }) => v.name === n);

  it('the real STHs verify as checkpoints with the real Icarus key', () => {
    for (const n of notes) expect(openCheckpoint(n, [parseVkey(vkey)]).checkpoint.origin).toBe(name);
  });

  for (const [vname, outcome] of [
    ['real proof', 'advanced'],
    ['derived: bit flipped in proof[5]', 'inconsistent'],
    ['derived: last proof element dropped', 'inconsistent'],
    ['derived: extra proof element appended', 'inconsistent'],
  ] as const) {
    it(`${vname}: ${outcome}`, async () => {
      const r = await rekorServer(logInfo({ treeID: '7', note: notes[0] }, []));
      const core = witnessCore([{ origin: name, vkeys: [vkey] }]);
      const feeder = new Feeder({ origin: name, source: createRekorV1Source({ url: r.server.url, http: { timeoutMs: 2000 } }), witness: core.witness, store: core.store, logs: core.registry, intervalMs: 20 });
      closers.push(() => feeder.stop());
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 129596132n });
      r.info = logInfo({ treeID: '7', note: notes[1] }, []);
      const v = vector(vname);
      r.proof = () => ({ status: 200, body: JSON.stringify({ rootHash: hex(Buffer.from(icarus.sth_second.sha256_root_hash, 'base64')), hashes: v.proof_b64.map((h: string) => hex(Buffer.from(h, 'base64'))) }) });
      expect(await feeder.pollOnce()).toMatchObject({ outcome, size: 129721434n });
      // No tree ID configured and none in the origin: the active shard's, named in the request.
      expect(r.proofQueries.map((q) => q.toString())).toEqual(['firstSize=129596132&lastSize=129721434&treeID=7']);
      expect((await core.store.getState(name))?.size).toBe(outcome === 'advanced' ? 129721434n : 129596132n);
    });
  }
});
