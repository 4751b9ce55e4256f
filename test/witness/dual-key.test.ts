// add-checkpoint with an Ed25519 and an ML-DSA-44 key (issue 14): one line per key, both verify
// (as note signatures and through the client policy), all signed before the one durable write,
// the clock check reads our ML-DSA-44 timestamps too, and size limits admit 100 ML-DSA-44 lines.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog, type AddResult } from '../../src/witness/witness.js';
import { formatAddCheckpointBody, parseAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, cosigner, cosignatureLineTimestamp, generateKey, openNote, parseCosignatureVkey, parseNote, parseVkey, formatSignatureLine, type Signer } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed, type MlDsa44Key } from '../../src/note/mldsa-keys.js';
import { MLDSA44, TIMESTAMPED_MLDSA44_SIZE } from '../../src/note/sigtypes/mldsa44.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { cosignedTimestamp } from '../../src/store/highwater.js';
import { DEFAULT_BODY_LIMIT } from '../../src/http/server.js';
import { DEFAULT_BODY_LIMIT as CONFIG_BODY_LIMIT } from '../../src/config.js';
import type { LogState, WitnessStore } from '../../src/witness/store.js';

const enc = (s: string) => new TextEncoder().encode(s);
const NAME = 'witness.example/w1';

function setup(opts: { store?: WitnessStore; secs?: { t: bigint }; keys?: 'both' | 'pq'; pq?: MlDsa44Key; wrap?: (s: Signer) => Signer } = {}) {
  const log = new TestLog('example.com/log');
  const ed = generateKey(NAME);
  const pq = opts.pq ?? mlDsa44KeyFromSeed(NAME, new Uint8Array(32).fill(5));
  const store = opts.store ?? new MemoryStore();
  const secs = opts.secs ?? { t: 1_700_000_000n };
  const clock = () => secs.t;
  const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
  const wrap = opts.wrap ?? ((s) => s);
  const cosigners = (opts.keys === 'pq' ? [pq.cosigner(clock)] : [cosigner(ed, clock), pq.cosigner(clock)]).map(wrap);
  const witness = new Witness({ store, logs, cosigners, now: () => Number(secs.t) * 1000 });
  const advance = (old: bigint) => witness.addCheckpoint(enc(formatAddCheckpointBody(old, old === 0n ? [] : log.tree.consistencyProof(old, log.tree.size), log.checkpoint())));
  return { log, ed, pq, store, witness, secs, advance };
}

function cosigned(r: AddResult): Extract<AddResult, { kind: 'cosigned' }> {
  if (r.kind !== 'cosigned') throw new Error(`expected cosigned, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return r;
}

describe('add-checkpoint with an Ed25519 and an ML-DSA-44 key', () => {
  it('answers one line per key: cosignature/v1 and subtree/v1 [0, size) with a non-zero timestamp; both verify', async () => {
    const { log, ed, pq, advance, store } = setup();
    log.append(9);
    const r = cosigned(await advance(0n));
    const text = parseNote(log.checkpoint()).text;
    const lines = parseNote(text + '\n' + r.lines).signatures;
    expect(lines.map((l) => l.sig.length)).toEqual([72, TIMESTAMPED_MLDSA44_SIZE]);
    expect(cosignatureLineTimestamp(MLDSA44, lines[1].sig)).toBe(1_700_000_000n);
    const opened = openNote(text + '\n' + r.lines, [parseCosignatureVkey(ed.cosignatureVkey), parseCosignatureVkey(pq.vkey)]);
    expect(opened.verified).toHaveLength(2);
    // The stored cosigned note (monitoring GET) carries both lines; the high-water journal reads them.
    const st = await store.getState(log.origin);
    expect(openNote(st!.cosigned, [parseVkey(log.key.vkey), parseCosignatureVkey(ed.cosignatureVkey), parseCosignatureVkey(pq.vkey)]).verified).toHaveLength(3);
    expect(cosignedTimestamp(st!)).toBe(1_700_000_000);
  });

  it('the client policy accepts it with the 1-of-2 group, and with either key alone', async () => {
    const { log, ed, pq, advance, store } = setup();
    log.append(4);
    cosigned(await advance(0n));
    const note = (await store.getState(log.origin))!.cosigned;
    const group = parsePolicy(`log ${log.key.vkey}\nwitness w-ed ${ed.cosignatureVkey}\nwitness w-pq ${pq.vkey}\ngroup w any w-ed w-pq\nquorum w\n`);
    const v = verifyCosignedCheckpoint(note, group, { exhaustive: true });
    expect(v).toMatchObject({ ok: true });
    expect(v.witnesses.map((w) => w.status)).toEqual(['verified', 'verified']);
    for (const key of [ed.cosignatureVkey, pq.vkey]) {
      expect(verifyCosignedCheckpoint(note, parsePolicy(`log ${log.key.vkey}\nwitness w ${key}\nquorum w\n`))).toMatchObject({ ok: true });
    }
  });

  it('signs with every key before the one durable write; a failed write releases nothing', async () => {
    const order: string[] = [];
    const inner = new MemoryStore();
    let fail = false;
    const store = new Proxy(inner, {
      get(target, prop, recv) {
        if (prop === 'compareAndSet')
          return async (origin: string, expected: bigint, next: LogState) => {
            order.push('cas');
            if (fail) throw new Error('disk gone');
            return target.compareAndSet(origin, expected, next);
          };
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as WitnessStore;
    const wrap = (s: Signer): Signer => {
      const a = (s as Signer & { signAsync?: (t: Uint8Array) => Promise<Uint8Array> }).signAsync;
      return {
        name: s.name,
        keyId: s.keyId,
        type: s.type,
        sign: (t) => (order.push(`sign ${s.type}`), s.sign(t)),
        ...(a ? { signAsync: async (t: Uint8Array) => { const sig = await a.call(s, t); order.push(`sign ${s.type}`); return sig; } } : {}),
      } as Signer;
    };
    const { log, advance } = setup({ store, wrap });
    log.append(3);
    cosigned(await advance(0n));
    expect(order.slice(0, 2).sort()).toEqual(['sign 4', 'sign 6']);
    expect(order[2]).toBe('cas');
    order.length = 0;
    fail = true;
    log.append(2);
    const r = await advance(3n);
    expect(r).toMatchObject({ kind: 'rejected', code: 'unavailable' });
    expect(JSON.stringify(r)).not.toContain('—');
  });

  it('the clock check reads our own ML-DSA-44 timestamps (a witness with only an ML-DSA-44 key)', async () => {
    const pq = mlDsa44KeyFromSeed(NAME, new Uint8Array(32).fill(6));
    const store = new MemoryStore();
    const first = setup({ store, keys: 'pq', pq, secs: { t: 2_000_000_000n } });
    first.log.append(2);
    cosigned(await first.advance(0n));
    // A restart with the clock set back 1000 s: the new process reads the newest timestamp from the store.
    const restarted = new Witness({
      store,
      logs: new Map([[first.log.origin, { origin: first.log.origin, verifiers: new VerifierSet([parseVkey(first.log.key.vkey)]) }]]),
      cosigners: [pq.cosigner(() => 1_999_999_000n)],
      now: () => 1_999_999_000_000,
    });
    first.log.append(1);
    const r = await restarted.addCheckpoint(enc(formatAddCheckpointBody(2n, first.log.tree.consistencyProof(2n, 3n), first.log.checkpoint())));
    expect(r).toMatchObject({ kind: 'rejected', code: 'clock-behind' });
    expect(restarted.clockBehindSeconds()).toBe(1000);
  });

  it('size limits admit a checkpoint with 100 ML-DSA-44 signature lines', () => {
    const log = new TestLog('example.com/log').append(3);
    const text = parseNote(log.checkpoint()).text;
    const line = formatSignatureLine('witness.example/some-rather-long-witness-name-0123456789', 0x01020304, new Uint8Array(TIMESTAMPED_MLDSA44_SIZE).fill(7));
    const note = text + '\n' + line.repeat(100);
    expect(parseNote(note).signatures).toHaveLength(100);
    const proof = Array.from({ length: 63 }, () => new Uint8Array(32));
    const body = enc(formatAddCheckpointBody(1n, proof, note));
    expect(parseAddCheckpointBody(body).proof).toHaveLength(63);
    expect(body.length).toBeLessThan(DEFAULT_BODY_LIMIT);
    expect(CONFIG_BODY_LIMIT).toBe(DEFAULT_BODY_LIMIT);
  });
});

describe('size limits elsewhere admit 100 ML-DSA-44 lines', () => {
  it('the tiled feeder reads checkpoints of that size', async () => {
    const { MAX_CHECKPOINT_BYTES } = await import('../../src/logs/feeders/tiles.js');
    const line = formatSignatureLine('witness.example/some-rather-long-witness-name-0123456789', 0x01020304, new Uint8Array(TIMESTAMPED_MLDSA44_SIZE));
    expect(100 * line.length + 1000).toBeLessThan(MAX_CHECKPOINT_BYTES);
  });
});

// tlog-cosignature: "opaque log_origin<1..2^8-1>": an ML-DSA-44 key cannot cosign a longer origin.
describe('an origin longer than an ML-DSA-44 cosignature can name', () => {
  const longLog = () => new TestLog(`example.com/${'x'.repeat(300)}`).append(4);
  function witnessWith(log: TestLog, keys: 'both' | 'pq') {
    const pq = mlDsa44KeyFromSeed(NAME, new Uint8Array(32).fill(5));
    const cosigners = keys === 'pq' ? [pq.cosigner()] : [cosigner(generateKey(NAME)), pq.cosigner()];
    const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
    return new Witness({ store: new MemoryStore(), logs, cosigners });
  }

  it('is cosigned by the Ed25519 key alone (200), not a 500', async () => {
    const log = longLog();
    const r = cosigned(await witnessWith(log, 'both').addCheckpoint(enc(formatAddCheckpointBody(0n, [], log.checkpoint()))));
    expect(parseNote(parseNote(log.checkpoint()).text + '\n' + r.lines).signatures.map((l) => l.sig.length)).toEqual([72]);
  });

  it('is refused as a log this witness cannot witness (404) with only an ML-DSA-44 key', async () => {
    const log = longLog();
    const r = await witnessWith(log, 'pq').addCheckpoint(enc(formatAddCheckpointBody(0n, [], log.checkpoint())));
    expect(r).toMatchObject({ kind: 'rejected', code: 'unknown-log' });
    if (r.kind === 'rejected') expect(r.reason).toMatch(/at most 255/);
  });
});
