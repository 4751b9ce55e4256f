// What keeps version 2's traffic down (docs/gossip.md, "What keeps duplicates down"): an item
// taken from a lazy link waits LAZY_HOLD_MS before it is pushed to the eager peers (a push at once
// would cross theirs) and is not pushed to one that sent it meanwhile, a peer that
// sent cosignatures on a text is never pushed that text, and yamux window updates wait for half
// the receive window (js-yamux answered every data frame with one).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream';
import { lazyYamuxWindowUpdates } from '../../src/gossip/host.js';
import { decodeCosigs, decodeDigests, EARLY_MAX_LINES, EARLY_MAX_PER_PEER, EARLY_MAX_PER_TEXT, encodeCosigs, encodeDigests, encodeFrame, encodeHello, Exchange, EXCHANGE_TICK_MS, FRAME, FrameReader, GRAFT_CHECK_MS, GRAFT_MIN_ITEMS, GRAFT_RECENT_MS, KnownItems, LAZY_HOLD_MS, MAX_UNHELD_ANNOUNCED, MAX_WANT_BYTES_PER_S, MAX_WRITE_QUEUED, PARTIAL_FRAME_MS, Recently, REF_BYTES, REPLAY_WINDOW_MS, shortLogId, WANT_DELAY_MS, WANT_ANSWER_MAX_QUEUED, WANT_DELAY_STEP_MS, WANT_RETRY_MS, type Item } from '../../src/gossip/exchange.js';
import { sha256 } from '../../src/crypto/index.js';
import { toHex, u64be, utf8 } from '../../src/util/bytes.js';

const ORIGIN = 'example.com/traffic';
const SELF = 'self-peer';
const LABELS = ['w0+00000001', 'w1+00000002'];
const rank = (p: string) => toHex(sha256(utf8(`${SELF} ${p}`)).subarray(0, 8));

/** Two peer names: the first is the one this node chooses to push to (lower rank of (this node, peer)). */
function peerNames(): [string, string] {
  const a = 'peer-a';
  for (let i = 0; i < 100; i++) {
    const b = `peer-b${i}`;
    if (rank(a) < rank(b)) return [a, b];
  }
  throw new Error('no lazy peer name found');
}

async function* once(...frames: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const f of frames) yield f;
}

const flush = () => new Promise((r) => setImmediate(r));

/** A peer's stream to us, with the abort() a stream closed for misbehaviour gets. */
function streamOf(...frames: Uint8Array[]) {
  const s = { aborted: undefined as Error | undefined, abort: (e: Error) => void (s.aborted = e), [Symbol.asyncIterator]: () => once(...frames) };
  return s;
}

async function harness(opts: { penalties?: [string, string, string][] } = {}) {
  const [eagerPeer, lazyPeer] = peerNames();
  const out = new Map<string, { type: number; payload: Uint8Array }[]>();
  const peers = [eagerPeer, lazyPeer].map((p) => ({ toString: () => p }));
  const cosigsIn: string[] = [];
  const checkpointsIn: number[] = [];
  const streams = new Map<string, { writeBufferLength: number; maxWriteBufferLength: number }>();
  const seenCosigs = new Set<string>();
  const ex = new Exchange({
    host: {
      getPeers: () => peers as never,
      dialProtocol: async (peer) => {
        const reader = new FrameReader();
        const l: { type: number; payload: Uint8Array }[] = [];
        out.set(peer.toString(), l);
        const stream = { writeBufferLength: 0, maxWriteBufferLength: Infinity, send: (b: Uint8Array) => (l.push(...reader.push(b)), true), addEventListener: () => {}, abort: () => {} };
        streams.set(peer.toString(), stream);
        return stream;
      },
    },
    selfId: SELF,
    hello: () => ({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS }),
    pqKeys: new Set<string>(),
    onCheckpoint: () => (checkpointsIn.push(1), 'new'),
    onCosig: (ref, line) => {
      const k = `${ref} ${line.name}`;
      if (seenCosigs.has(k)) return 'dup';
      seenCosigs.add(k);
      cosigsIn.push(line.name);
      return 'new';
    },
    penalise: (peer, reason, detail) => {
      if (!opts.penalties) throw new Error('nobody misbehaves here');
      opts.penalties.push([peer, reason, detail]);
    },
    logger: { debug: () => {}, info: () => {} },
  });
  // Each peer's stream to us: its HELLO (then it ends; the session stays).
  for (const p of peers) await ex.serve(once(encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS })) as never, { remotePeer: p } as never);
  await flush();
  const frames = (peer: string) => out.get(peer)!.splice(0);
  for (const p of peers) expect(frames(p.toString()).map((f) => f.type)).toEqual([FRAME.hello]); // our stream's first frame
  ex.tick(); // the eager choice is told (EAGER 1 to the eager peer)
  expect(frames(eagerPeer).map((f) => [f.type, [...f.payload]])).toEqual([[FRAME.eager, [1]]]);
  expect(frames(lazyPeer).map((f) => [f.type, [...f.payload]])).toEqual([[FRAME.eager, [0]]]);
  return { ex, eagerPeer, lazyPeer, frames, cosigsIn, checkpointsIn, streams };
}

const text = (n: number) => {
  const note = utf8(`${ORIGIN}\n${n}\n${'A'.repeat(43)}=\n\n— ${ORIGIN} sig\n`);
  return { note, textHash: toHex(sha256(note)) };
};
const checkpoint = (n: number): Item => ({ kind: 'checkpoint', origin: ORIGIN, ...text(n) });
const cosig = (n: number, label: string): Item => ({ kind: 'cosig', origin: ORIGIN, textHash: text(n).textHash, label, sig: new Uint8Array(72).fill(n) });

describe('exchange: what is pushed and what is announced', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an item taken from a lazy link is pushed to the eager peer only after LAZY_HOLD_MS, and not if that peer sent it meanwhile; own items at once', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ex, eagerPeer, lazyPeer, frames } = await harness();
    ex.offer(checkpoint(1), lazyPeer); // a WANT answer or a catch-up from the lazy peer
    ex.offer(cosig(1, LABELS[1]), lazyPeer);
    ex.offer(checkpoint(4), lazyPeer);
    ex.tick();
    expect(frames(eagerPeer)).toEqual([]); // held back
    expect(frames(lazyPeer)).toEqual([]); // it sent them: never sent back
    // Meanwhile the eager peer pushes checkpoint 4 to us: it holds it, so it is not sent back.
    await ex.serve(once(encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS }), encodeFrame(FRAME.checkpoint, text(4).note)) as never, { remotePeer: { toString: () => eagerPeer } } as never);
    ex.offer(checkpoint(4), eagerPeer); // what the service does with a duplicate
    vi.setSystemTime(Date.now() + LAZY_HOLD_MS);
    ex.tick();
    const toEager = frames(eagerPeer);
    expect(toEager.map((f) => f.type)).toEqual([FRAME.checkpoint, FRAME.cosigs]);
    expect(new TextDecoder().decode(toEager[0].payload)).toBe(new TextDecoder().decode(text(1).note));
    expect(toHex(decodeCosigs(toEager[1].payload).ref)).toBe(text(1).textHash.slice(0, 2 * REF_BYTES));
    ex.tick();
    expect(frames(eagerPeer)).toEqual([]); // once
    // The lazy peer hears of nothing it sent; this node's own cosignature goes to both at once
    // (pushed to the eager peer, announced to the lazy one).
    ex.offer(cosig(1, LABELS[0]));
    ex.tick();
    const pushed = frames(eagerPeer);
    expect(pushed.map((f) => f.type)).toEqual([FRAME.cosigs]);
    expect(decodeCosigs(pushed[0].payload).items.map((i) => i.index)).toEqual([0]);
    const announced = frames(lazyPeer);
    expect(announced.map((f) => f.type)).toEqual([FRAME.have]);
    expect(decodeDigests(announced[0].payload).map((d) => [toHex(d.ref), d.text, [...d.bits]])).toEqual([[text(1).textHash.slice(0, 2 * REF_BYTES), true, [0b11]]]);
  });

  it('a peer that sent a cosignature on a text is not pushed that text', async () => {
    const { ex, eagerPeer, frames, cosigsIn } = await harness();
    ex.offer(checkpoint(2), undefined); // held here (the log pushed it to this witness)...
    // ...but the tick has not run yet when the eager peer's cosignature on it arrives.
    const ref = Uint8Array.from(Buffer.from(text(2).textHash.slice(0, 2 * REF_BYTES), 'hex'));
    await ex.serve(once(encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS }), encodeCosigs(ref, [{ index: 1, sig: new Uint8Array(72) }])) as never, { remotePeer: { toString: () => eagerPeer } } as never);
    expect(cosigsIn).toEqual(['w1']);
    ex.tick();
    expect(frames(eagerPeer).map((f) => f.type)).not.toContain(FRAME.checkpoint);
    // Without that cosignature the text is pushed (the control).
    ex.offer(checkpoint(3), undefined);
    ex.tick();
    expect(frames(eagerPeer).map((f) => f.type)).toContain(FRAME.checkpoint);
  });
});

describe('exchange: the WANT wait adapts', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grows when an eager copy trails an item already fetched with WANT, not for other duplicates, and decays back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ex, eagerPeer, lazyPeer, frames } = await harness();
    const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
    const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
    ex.offer(checkpoint(5)); // held here
    const refHex = text(5).textHash.slice(0, 2 * REF_BYTES);
    const ref = Uint8Array.from(Buffer.from(refHex, 'hex'));
    // A duplicate nobody asked for (w0's line from the eager peer, then from the lazy one) changes nothing.
    await ex.serve(once(hello, encodeCosigs(ref, [{ index: 0, sig: new Uint8Array(72).fill(1) }])) as never, from(eagerPeer));
    await ex.serve(once(hello, encodeCosigs(ref, [{ index: 0, sig: new Uint8Array(72).fill(1) }])) as never, from(lazyPeer));
    expect(ex.stats.dupIn).toBe(1);
    expect(ex.stats.wantDelayMs).toBe(WANT_DELAY_MS);
    // The lazy peer announces w1's line; after the wait this node asks for it...
    await ex.serve(once(hello, encodeDigests(FRAME.have, [{ ref, text: true, bits: Uint8Array.of(0b10), pq: new Uint8Array(0) }])) as never, from(lazyPeer));
    vi.setSystemTime(Date.now() + WANT_DELAY_MS);
    ex.tick();
    expect(frames(lazyPeer).map((f) => f.type)).toContain(FRAME.want);
    // ...gets it from the lazy peer, and then the eager copy arrives too: the wait was too short.
    const w1 = encodeCosigs(ref, [{ index: 1, sig: new Uint8Array(72).fill(2) }]);
    await ex.serve(once(hello, w1) as never, from(lazyPeer));
    await ex.serve(once(hello, w1) as never, from(eagerPeer));
    expect(ex.stats.dupIn).toBe(2);
    expect(ex.wantDelayMs).toBeCloseTo(WANT_DELAY_MS + WANT_DELAY_STEP_MS, 0);
    // Without more such duplicates it decays back (10 % of the excess per second).
    vi.setSystemTime(Date.now() + 60_000);
    ex.tick();
    expect(ex.wantDelayMs).toBeLessThan(WANT_DELAY_MS + 0.1);
  });
});

describe('exchange: grafting joins the trees of the eager overlay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grafts the lazy peer that supplied most first copies, and prunes the graft once it carries mostly duplicates for two windows', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ex, eagerPeer, lazyPeer, frames } = await harness();
    const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
    const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
    const t0 = Date.now();
    vi.setSystemTime(t0 + GRAFT_CHECK_MS);
    ex.tick(); // a check with nothing in its window: no graft
    expect(ex.stats.grafts).toBe(0);
    // Control: first copies from the eager peer never graft anything.
    for (let i = 0; i < 2 * GRAFT_MIN_ITEMS; i++) ex.offer(checkpoint(100 + i), eagerPeer);
    vi.setSystemTime(t0 + 2 * GRAFT_CHECK_MS);
    ex.tick();
    expect(ex.stats.grafts).toBe(0);
    frames(eagerPeer);
    frames(lazyPeer);
    // Now most first copies come from the lazy peer (the eager overlay does not reach this node).
    vi.setSystemTime(t0 + 3 * GRAFT_CHECK_MS - GRAFT_RECENT_MS / 2);
    for (let i = 0; i < GRAFT_MIN_ITEMS; i++) ex.offer(checkpoint(200 + i), lazyPeer);
    for (let i = 0; i < GRAFT_MIN_ITEMS; i++) ex.offer(checkpoint(300 + i), eagerPeer);
    vi.setSystemTime(t0 + 3 * GRAFT_CHECK_MS);
    ex.tick();
    expect(ex.stats.grafts).toBe(1);
    expect(frames(lazyPeer).filter((f) => f.type === FRAME.eager).map((f) => [...f.payload])).toEqual([[1]]);
    expect(ex.eagerPeers().has(lazyPeer)).toBe(true);
    // The graft now carries mostly duplicates (the trees are joined another way; each item came
    // from the eager peer first, and each once: the same item twice from one peer is a replay): one
    // window is not enough...
    const ref = (i: number) => Uint8Array.from(Buffer.from(text(200 + i).textHash.slice(0, 2 * REF_BYTES), 'hex'));
    const dups = (index: number) => Array.from({ length: GRAFT_MIN_ITEMS }, (_, i) => encodeCosigs(ref(i), [{ index, sig: new Uint8Array(72).fill(9) }]));
    await ex.serve(once(hello, ...dups(0)) as never, from(eagerPeer));
    await ex.serve(once(hello, ...dups(0)) as never, from(lazyPeer));
    vi.setSystemTime(t0 + 4 * GRAFT_CHECK_MS);
    ex.tick();
    expect(ex.stats.prunes).toBe(0);
    expect(ex.eagerPeers().has(lazyPeer)).toBe(true);
    // ...two running are: the graft is dropped and the peer told EAGER 0.
    await ex.serve(once(hello, ...dups(1)) as never, from(eagerPeer));
    await ex.serve(once(hello, ...dups(1)) as never, from(lazyPeer));
    vi.setSystemTime(t0 + 5 * GRAFT_CHECK_MS);
    ex.tick();
    expect(ex.stats.prunes).toBe(1);
    expect(ex.eagerPeers().has(lazyPeer)).toBe(false);
    expect(frames(lazyPeer).filter((f) => f.type === FRAME.eager).map((f) => [...f.payload])).toEqual([[0]]);
    expect(ex.eagerPeers().has(eagerPeer)).toBe(true); // the chosen link is never pruned
  });

  it('does not graft when the eager copies trail what it fetched lazily while its ticks run late (the overlay reaches it, late)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ex, eagerPeer, lazyPeer, frames } = await harness();
    const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
    const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
    const t0 = Date.now();
    vi.setSystemTime(t0 + GRAFT_CHECK_MS);
    ex.tick(); // a check: the next one is at t0 + 2 windows
    // Within one window: GRAFT_MIN_ITEMS lines announced by the lazy peer, fetched with WANT, and
    // (trail) the eager peer's copies arriving after them. The clock jumps 1.5 s between two ticks:
    // the event loop lags, the case the guard is for.
    const batch = async (base: number, at: number, trail: boolean) => {
      vi.setSystemTime(at);
      const refs = Array.from({ length: GRAFT_MIN_ITEMS }, (_, i) => {
        ex.offer(checkpoint(base + i)); // the text is here; w1's line is only announced
        return Uint8Array.from(Buffer.from(text(base + i).textHash.slice(0, 2 * REF_BYTES), 'hex'));
      });
      await ex.serve(once(hello, encodeDigests(FRAME.have, refs.map((ref) => ({ ref, text: true, bits: Uint8Array.of(0b10), pq: new Uint8Array(0) })))) as never, from(lazyPeer));
      vi.setSystemTime(at + 1500);
      ex.tick();
      expect(frames(lazyPeer).map((f) => f.type)).toContain(FRAME.want);
      for (let i = 0; i < refs.length; i++) {
        const line = encodeCosigs(refs[i], [{ index: 1, sig: new Uint8Array(72).fill(i + 1) }]);
        await ex.serve(once(hello, line) as never, from(lazyPeer));
        ex.offer(cosig(base + i, LABELS[1]), lazyPeer); // what the service does with a new line: a first copy taken lazily
        if (trail) await ex.serve(once(hello, line) as never, from(eagerPeer)); // the eager copy, late
      }
    };
    await batch(500, t0 + 2 * GRAFT_CHECK_MS - GRAFT_RECENT_MS - 1500 + 100, true);
    vi.setSystemTime(t0 + 2 * GRAFT_CHECK_MS);
    ex.tick();
    expect(ex.stats.grafts).toBe(0);
    // The control: the same without the trailing eager copies grafts.
    await batch(600, t0 + 3 * GRAFT_CHECK_MS - GRAFT_RECENT_MS - 1500 + 100, false);
    vi.setSystemTime(t0 + 3 * GRAFT_CHECK_MS);
    ex.tick();
    expect(ex.stats.grafts).toBe(1);
  });

  it('grafts when eager copies trail its lazy fetches but its own ticks run on time (two nodes that chose only each other)', async () => {
    // Each of two nodes that chose only each other pushes the other what it fetched lazily, so
    // every eager copy trails a lazy one. Without lag that is no sign of a late overlay: graft.
    // (The test above jumps the clock between ticks: a lagging event loop, where the guard holds.)
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ex, eagerPeer, lazyPeer } = await harness();
    const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
    const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
    const t0 = Date.now();
    vi.setSystemTime(t0 + GRAFT_CHECK_MS);
    ex.tick(); // the first check (its window saw the jump); the next is at t0 + 2 windows
    let now = t0 + GRAFT_CHECK_MS;
    const runTo = (t: number) => {
      for (; now + EXCHANGE_TICK_MS <= t; ) {
        now += EXCHANGE_TICK_MS;
        vi.setSystemTime(now);
        ex.tick();
      }
    };
    runTo(t0 + 2 * GRAFT_CHECK_MS - GRAFT_RECENT_MS - 1500 + 100);
    const refs = Array.from({ length: GRAFT_MIN_ITEMS }, (_, i) => {
      ex.offer(checkpoint(700 + i));
      return Uint8Array.from(Buffer.from(text(700 + i).textHash.slice(0, 2 * REF_BYTES), 'hex'));
    });
    await ex.serve(once(hello, encodeDigests(FRAME.have, refs.map((ref) => ({ ref, text: true, bits: Uint8Array.of(0b10), pq: new Uint8Array(0) })))) as never, from(lazyPeer));
    runTo(now + 1500); // the WANT goes out after the WANT wait, ticks on time
    for (let i = 0; i < refs.length; i++) {
      const line = encodeCosigs(refs[i], [{ index: 1, sig: new Uint8Array(72).fill(i + 1) }]);
      await ex.serve(once(hello, line) as never, from(lazyPeer));
      ex.offer(cosig(700 + i, LABELS[1]), lazyPeer);
      await ex.serve(once(hello, line) as never, from(eagerPeer)); // the eager copy, trailing
    }
    expect(ex.stats.grafts).toBe(0);
    runTo(t0 + 2 * GRAFT_CHECK_MS);
    expect(ex.stats.grafts).toBe(1);
    expect(ex.eagerPeers().has(lazyPeer)).toBe(true);
  });

  it('does not graft on lazily received items that are no longer arriving (the overlay reaches this node again)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ex, lazyPeer } = await harness();
    const t0 = Date.now();
    vi.setSystemTime(t0 + GRAFT_CHECK_MS);
    ex.tick();
    for (let i = 0; i < 2 * GRAFT_MIN_ITEMS; i++) ex.offer(checkpoint(400 + i), lazyPeer);
    vi.setSystemTime(t0 + 2 * GRAFT_CHECK_MS + GRAFT_RECENT_MS + 1);
    ex.tick();
    expect(ex.stats.grafts).toBe(0);
  });
});

describe('yamux window updates (lazyYamuxWindowUpdates)', () => {
  const stream = (consumed: number, state = StreamState.Established) => {
    const sent: { type: number; flag: number; length: number }[] = [];
    const s = Object.create(YamuxStream.prototype) as Record<string, unknown>;
    Object.assign(s, { state, recvWindow: 256 * 1024, recvWindowCapacity: 256 * 1024 - consumed, maxStreamWindowSize: 16 * 1024 * 1024, epochStart: Date.now(), getRTT: () => -1, sendFrame: (h: never) => sent.push(h), streamId: 1 });
    return { send: () => (s as unknown as { sendWindowUpdate(): void }).sendWindowUpdate(), sent };
  };

  it('are sent once half of the receive window is consumed, not after every data frame', () => {
    lazyYamuxWindowUpdates();
    lazyYamuxWindowUpdates(); // idempotent
    const small = stream(1000);
    small.send();
    expect(small.sent).toEqual([]);
    const half = stream(128 * 1024);
    half.send();
    expect(half.sent.map((h) => h.length)).toEqual([128 * 1024]);
  });

  it('a stream that still has a flag to send (SYN, ACK) sends it at once', () => {
    lazyYamuxWindowUpdates();
    const opening = stream(1000, StreamState.SYNReceived);
    opening.send();
    expect(opening.sent).toHaveLength(1);
    expect(opening.sent[0].flag).not.toBe(0);
  });
});

describe('exchange: replays (REPLAY_WINDOW_MS)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
  const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
  const refOf = (n: number) => Uint8Array.from(Buffer.from(text(n).textHash.slice(0, 2 * REF_BYTES), 'hex'));
  const w0 = (n: number) => encodeCosigs(refOf(n), [{ index: 0, sig: new Uint8Array(72).fill(1) }]);

  it('the same cosignature twice from one peer, unasked, is refused before any work and penalised; from another peer it is a duplicate', async () => {
    const penalties: [string, string, string][] = [];
    const { ex, eagerPeer, lazyPeer, cosigsIn } = await harness({ penalties });
    ex.offer(checkpoint(5));
    const s = streamOf(hello, w0(5), w0(5), w0(6));
    await ex.serve(s as never, from(eagerPeer));
    expect(penalties).toEqual([[eagerPeer, 'invalid', 'a replayed cosignature by w0+00000001: received again on this stream, not asked for again']]);
    expect(s.aborted).toBeDefined();
    expect(cosigsIn).toEqual(['w0']); // the replay never reached verification, nor did what followed it
    // Another peer sending the same line: a duplicate (two peers raced), not penalised.
    await ex.serve(streamOf(hello, w0(5)) as never, from(lazyPeer));
    expect(penalties).toHaveLength(1);
    expect(ex.stats.dupIn).toBe(1);
  });

  it('the same checkpoint twice from one peer is a replay', async () => {
    const penalties: [string, string, string][] = [];
    const { ex, eagerPeer, lazyPeer, checkpointsIn } = await harness({ penalties });
    await ex.serve(streamOf(hello, encodeFrame(FRAME.checkpoint, text(7).note), encodeFrame(FRAME.checkpoint, text(8).note)) as never, from(lazyPeer));
    await ex.serve(streamOf(hello, encodeFrame(FRAME.checkpoint, text(7).note)) as never, from(eagerPeer));
    expect(penalties).toEqual([]);
    await ex.serve(streamOf(hello, encodeFrame(FRAME.checkpoint, text(8).note)) as never, from(lazyPeer));
    expect(penalties.map((p) => p.slice(0, 2))).toEqual([[lazyPeer, 'invalid']]);
    expect(penalties[0][2]).toMatch(/replayed checkpoint/);
    expect(checkpointsIn).toHaveLength(3);
  });

  it('an item this node asked a peer for again may come again (one copy per WANT, beside a push); one more is a replay', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const penalties: [string, string, string][] = [];
    const { ex, lazyPeer, frames } = await harness({ penalties });
    ex.offer(checkpoint(9));
    const ref = refOf(9);
    // The lazy peer announces w1's line; it is asked for, and asked again when no answer came.
    await ex.serve(streamOf(hello, encodeDigests(FRAME.have, [{ ref, text: true, bits: Uint8Array.of(0b10), pq: new Uint8Array(0) }])) as never, from(lazyPeer));
    vi.setSystemTime(Date.now() + WANT_DELAY_MS);
    ex.tick();
    vi.setSystemTime(Date.now() + WANT_RETRY_MS);
    ex.tick();
    expect(frames(lazyPeer).filter((f) => f.type === FRAME.want)).toHaveLength(2);
    const w1 = encodeCosigs(ref, [{ index: 1, sig: new Uint8Array(72).fill(2) }]);
    // The first answer, the second answer, and a copy it pushed before it saw the WANTs: honest.
    await ex.serve(streamOf(hello, w1, w1, w1) as never, from(lazyPeer));
    expect(penalties).toEqual([]);
    await ex.serve(streamOf(hello, w1) as never, from(lazyPeer));
    expect(penalties.map((p) => p.slice(0, 2))).toEqual([[lazyPeer, 'invalid']]);
  });

  it('COSIGS frames an honest node never sends are malformed: more entries than keys, a key twice, a signature under 64 bytes after its timestamp', async () => {
    // The encoder refuses a short entry: that frame is written by hand (REF, 1 entry, base timestamp 5, index 0, difference 0, 2 bytes).
    const short = encodeFrame(FRAME.cosigs, Uint8Array.from([...refOf(5), 1, ...u64be(5n), 0, 0, 2, 1, 2]));
    for (const [frame, detail] of [
      [encodeCosigs(refOf(5), [0, 1, 0].map((index) => ({ index, sig: new Uint8Array(72).fill(index + 1) }))), /COSIGS with 3 entries for 2 keys/],
      [encodeCosigs(refOf(5), [1, 1].map((index) => ({ index, sig: new Uint8Array(72) }))), /a key twice/],
      [short, /bad COSIGS entry/],
    ] as const) {
      const penalties: [string, string, string][] = [];
      const { ex, eagerPeer, cosigsIn } = await harness({ penalties });
      ex.offer(checkpoint(5));
      await ex.serve(streamOf(hello, frame) as never, from(eagerPeer));
      expect(penalties.map((p) => p.slice(0, 2))).toEqual([[eagerPeer, 'invalid']]);
      expect(penalties[0][2]).toMatch(detail);
      expect(cosigsIn).toEqual([]); // refused before any entry was looked at
    }
  });

  it('the same item after the window is a duplicate, not a replay', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const penalties: [string, string, string][] = [];
    const { ex, eagerPeer } = await harness({ penalties });
    ex.offer(checkpoint(5));
    await ex.serve(streamOf(hello, w0(5)) as never, from(eagerPeer));
    vi.setSystemTime(Date.now() + REPLAY_WINDOW_MS - 1);
    await ex.serve(streamOf(hello, w0(6)) as never, from(eagerPeer)); // the window turns over
    vi.setSystemTime(Date.now() + 2 * REPLAY_WINDOW_MS);
    await ex.serve(streamOf(hello, w0(5)) as never, from(eagerPeer));
    expect(penalties).toEqual([]);
    expect(ex.stats.dupIn).toBe(1);
  });
});

describe('Recently (the replay window)', () => {
  it('counts a key for one to two windows, and forgets early only past its size bound', () => {
    const r = new Recently(1000, 3, 0);
    expect(r.add('a', 0)).toBe(1);
    expect(r.get('a', 999)).toBe(1);
    expect(r.get('a', 1000)).toBe(1); // rotated: 'a' is in the older generation
    expect(r.add('a', 1500, -1)).toBe(0);
    expect(r.add('b', 1500)).toBe(1);
    expect(r.get('b', 2999)).toBe(1);
    expect(r.get('b', 4100)).toBe(0); // more than two windows on
    for (const k of ['x', 'y', 'z']) r.add(k, 4200);
    expect(r.get('x', 4200)).toBe(1); // bound reached: the generation turns over early, x still counted
    for (const k of ['u', 'v', 'w']) r.add(k, 4200);
    expect(r.get('x', 4200)).toBe(0); // two generations on: forgotten
  });
});

describe('KnownItems (what a peer is known to hold)', () => {
  it('keeps one bit per text and key, past 32 keys, and forgets the oldest half of the texts at its bound', () => {
    const k = new KnownItems(4);
    expect(k.has('r0', 0)).toBe(false);
    expect(k.add('r0', 0)).toBe(true);
    expect(k.add('r0', 0)).toBe(false); // already known
    expect(k.add('r0', 31)).toBe(true);
    expect(k.add('r0', 32)).toBe(true);
    expect(k.add('r0', 100)).toBe(true);
    expect([0, 31, 32, 100].map((b) => k.has('r0', b))).toEqual([true, true, true, true]);
    expect([1, 30, 33, 64, 99, 101].some((b) => k.has('r0', b))).toBe(false); // only the bits set
    expect(k.has('r1', 0)).toBe(false); // per text
    for (const r of ['r1', 'r2', 'r3']) k.add(r, 5);
    expect(k.refs).toBe(4);
    k.add('r4', 5); // over the bound: r0 and r1 (the oldest half) go
    expect(k.refs).toBe(3);
    expect(k.has('r0', 0) || k.has('r1', 5)).toBe(false);
    expect(k.has('r2', 5) && k.has('r3', 5) && k.has('r4', 5)).toBe(true);
  });
});

describe('exchange: cosignatures held for texts that have not arrived', () => {
  it('are bounded per text, per peer and in all, never ML-DSA-44 sized, held as copies, and applied when the text arrives', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}+${(0x10000000 + i).toString(16)}`);
    const applied: [string, string][] = [];
    let textArrived = '';
    const ex = new Exchange({
      host: { getPeers: () => ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'].map((p) => ({ toString: () => p })) as never, dialProtocol: async () => ({ send: () => true, addEventListener: () => {}, abort: () => {} }) },
      selfId: SELF,
      hello: () => ({ version: 2, logs: [shortLogId(ORIGIN)], keys }),
      pqKeys: new Set<string>(),
      onCheckpoint: () => 'new',
      onCosig: (ref, line, from) => {
        if (ref !== textArrived) return 'unknown-ref';
        applied.push([line.name, from]);
        return 'new';
      },
      penalise: () => {
        throw new Error('nobody misbehaves here');
      },
      logger: { debug: () => {}, info: () => {} },
    });
    const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys });
    const refHex = (n: number) => toHex(sha256(utf8(`text ${n}`)).subarray(0, REF_BYTES));
    /** One COSIGS frame: `count` lines (keys 0..count-1) of `size` bytes on text n. */
    const cosigs = (n: number, count: number, size = 72) => encodeCosigs(Uint8Array.from(Buffer.from(refHex(n), 'hex')), Array.from({ length: count }, (_, index) => ({ index, sig: new Uint8Array(size).fill(7) })));
    const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
    // Per text: 300 lines offered, 256 held.
    await ex.serve(once(hello, cosigs(0, 300)) as never, from('p0'));
    expect(ex.earlyLines).toBe(EARLY_MAX_PER_TEXT);
    // ML-DSA-44-sized lines are never held.
    await ex.serve(once(hello, cosigs(1, 10, 2420)) as never, from('p0'));
    expect(ex.earlyLines).toBe(EARLY_MAX_PER_TEXT);
    // Per peer: p0 offers 40 more texts' worth; it keeps at most EARLY_MAX_PER_PEER.
    await ex.serve(once(hello, ...Array.from({ length: 40 }, (_, i) => cosigs(2 + i, 256))) as never, from('p0'));
    expect(ex.earlyLines).toBe(EARLY_MAX_PER_PEER);
    // In all: other peers fill it up to EARLY_MAX_LINES; the oldest text's lines go first.
    for (let p = 1; p <= 5; p++) await ex.serve(once(hello, ...Array.from({ length: 10 }, (_, i) => cosigs(100 * p + i, 256))) as never, from(`p${p}`));
    expect(ex.earlyLines).toBeLessThanOrEqual(EARLY_MAX_LINES);
    expect(ex.earlyLines).toBeGreaterThan(EARLY_MAX_LINES - EARLY_MAX_PER_TEXT);
    textArrived = refHex(0);
    ex.applyEarly(refHex(0));
    expect(applied).toEqual([]); // text 0's lines were the oldest: dropped
    // A text whose lines are held: they are applied when it arrives, and no longer held.
    const before = ex.earlyLines;
    textArrived = refHex(501);
    ex.applyEarly(refHex(501));
    expect(applied).toHaveLength(256);
    expect(applied.every(([, f]) => f === 'p5')).toBe(true);
    expect(ex.earlyLines).toBe(before - 256);
  });

  it('a cosignature is a copy of its bytes, not a view of the frame it came in', () => {
    const frame = encodeCosigs(new Uint8Array(REF_BYTES), [{ index: 0, sig: new Uint8Array(72).fill(3) }]);
    const [f] = new FrameReader().push(frame);
    const { items } = decodeCosigs(f.payload);
    expect(items[0].sig.buffer.byteLength).toBe(72);
  });
});

describe('exchange: WANT answers are bounded', () => {
  const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
  const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
  const refOf = (n: number) => Uint8Array.from(Buffer.from(text(n).textHash.slice(0, 2 * REF_BYTES), 'hex'));
  const all = (n: number) => ({ ref: refOf(n), text: true, bits: Uint8Array.of(0b11), pq: Uint8Array.of(0b11) });

  it('a text named again in one WANT is answered once; a peer that does not read gets no answers; the stream is reset past MAX_WRITE_QUEUED', async () => {
    const { ex, lazyPeer, frames, streams } = await harness();
    expect(streams.get(lazyPeer)!.maxWriteBufferLength).toBe(MAX_WRITE_QUEUED);
    ex.offer(checkpoint(3));
    ex.offer({ kind: 'cosig', origin: ORIGIN, textHash: text(3).textHash, label: LABELS[0], sig: new Uint8Array(72).fill(1) });
    ex.offer({ kind: 'cosig', origin: ORIGIN, textHash: text(3).textHash, label: LABELS[1], sig: new Uint8Array(72).fill(2) });
    frames(lazyPeer);
    await ex.serve(streamOf(hello, encodeDigests(FRAME.want, Array.from({ length: 500 }, () => all(3)))) as never, from(lazyPeer));
    const answer = frames(lazyPeer);
    expect(answer.map((f) => f.type)).toEqual([FRAME.checkpoint, FRAME.cosigs]);
    expect(decodeCosigs(answer[1].payload).items).toHaveLength(2);
    // While more than WANT_ANSWER_MAX_QUEUED waits to be sent to it, nothing more is queued.
    streams.get(lazyPeer)!.writeBufferLength = WANT_ANSWER_MAX_QUEUED + 1;
    await ex.serve(streamOf(hello, encodeDigests(FRAME.want, [all(3)])) as never, from(lazyPeer));
    expect(frames(lazyPeer)).toEqual([]);
    expect(ex.stats.wantSkipped).toBe(1);
  });

  it('answers stop at MAX_WANT_BYTES_PER_S per peer', async () => {
    const { ex, lazyPeer, frames } = await harness();
    const big = (n: number): Item => ({ kind: 'checkpoint', origin: ORIGIN, textHash: text(n).textHash, note: new Uint8Array(100 * 1024).fill(n) });
    for (let n = 0; n < 20; n++) ex.offer(big(n));
    frames(lazyPeer);
    await ex.serve(streamOf(hello, encodeDigests(FRAME.want, Array.from({ length: 20 }, (_, n) => all(n)))) as never, from(lazyPeer));
    const sent = frames(lazyPeer).filter((f) => f.type === FRAME.checkpoint);
    expect(sent.length).toBe(Math.ceil(MAX_WANT_BYTES_PER_S / (100 * 1024)));
    expect(ex.stats.wantSkipped).toBe(1);
  });
});

describe('exchange: HAVE floods', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
  const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;
  const refOf = (n: number) => Uint8Array.from(Buffer.from(text(n).textHash.slice(0, 2 * REF_BYTES), 'hex'));

  it('one peer announces at most MAX_UNHELD_ANNOUNCED texts this node does not hold; the rest is ignored, not penalised', async () => {
    const { ex, lazyPeer } = await harness();
    const have = (from0: number, n: number) => encodeDigests(FRAME.have, Array.from({ length: n }, (_, i) => ({ ref: refOf(from0 + i), text: true, bits: Uint8Array.of(0b11), pq: new Uint8Array(0) })));
    await ex.serve(streamOf(hello, have(0, 2000)) as never, from(lazyPeer));
    expect(ex.stats.haveIgnored).toBe(2000 - MAX_UNHELD_ANNOUNCED);
    // Announcing again what it already announced costs nothing more.
    await ex.serve(streamOf(hello, have(0, 10)) as never, from(lazyPeer));
    expect(ex.stats.haveIgnored).toBe(2000 - MAX_UNHELD_ANNOUNCED);
  });

  it('an ML-DSA-44 bit for a key this node knows as Ed25519 is ignored: its lines are still asked for', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ex, lazyPeer, frames } = await harness();
    ex.offer(checkpoint(2));
    // The peer claims w0's lines are ML-DSA-44 (announced only), then announces w0's line on text 2.
    await ex.serve(streamOf(hello, encodeDigests(FRAME.have, [{ ref: refOf(1), text: false, bits: new Uint8Array(0), pq: Uint8Array.of(0b01) }, { ref: refOf(2), text: true, bits: Uint8Array.of(0b01), pq: new Uint8Array(0) }])) as never, from(lazyPeer));
    frames(lazyPeer);
    vi.setSystemTime(Date.now() + WANT_DELAY_MS);
    ex.tick();
    const wants = frames(lazyPeer).filter((f) => f.type === FRAME.want).flatMap((f) => decodeDigests(f.payload));
    expect(wants.map((w) => [toHex(w.ref), [...w.bits]])).toEqual([[toHex(refOf(2)), [0b01]]]);
  });
});

describe('exchange: a frame left incomplete (PARTIAL_FRAME_MS)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const hello = encodeHello({ version: 2, logs: [shortLogId(ORIGIN)], keys: LABELS });
  const from = (p: string) => ({ remotePeer: { toString: () => p } }) as never;

  /** A stream the test feeds chunk by chunk; abort() ends it. */
  function fedStream() {
    const queue: Uint8Array[] = [];
    let wake: (() => void) | undefined;
    const s = {
      aborted: undefined as Error | undefined,
      abort: (e: Error) => {
        s.aborted = e;
        wake?.();
      },
      feed: (b: Uint8Array) => {
        queue.push(b);
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 10_000 && !s.aborted; i++) {
          if (queue.length === 0) await new Promise<void>((r) => (wake = r));
          const b = queue.shift();
          if (b) yield b;
        }
      },
    };
    return s;
  }

  it('closes the stream, without a penalty, when a begun frame stays incomplete; frames that keep completing are not cut', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const penalties: [string, string, string][] = [];
    const { ex, lazyPeer } = await harness({ penalties });
    const stalled = fedStream();
    const serving = ex.serve(stalled as never, from(lazyPeer));
    stalled.feed(hello);
    const big = encodeFrame(FRAME.checkpoint, new Uint8Array(1000).fill(7));
    stalled.feed(big.subarray(0, 500));
    await vi.advanceTimersByTimeAsync(PARTIAL_FRAME_MS - 1);
    expect(stalled.aborted).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await serving;
    expect(stalled.aborted?.message).toMatch(/incomplete after/);
    expect(ex.stats.stalledFrames).toBe(1);
    expect(penalties).toEqual([]);

    // A peer whose chunks never end on a frame boundary, but whose frames keep completing.
    const busy = fedStream();
    const serving2 = ex.serve(busy as never, from(lazyPeer));
    busy.feed(hello);
    const have = encodeDigests(FRAME.have, []);
    busy.feed(have.subarray(0, 1));
    for (let i = 0; i < 8; i++) {
      busy.feed(Uint8Array.of(...have.subarray(1), ...have.subarray(0, 1)));
      await vi.advanceTimersByTimeAsync(PARTIAL_FRAME_MS / 2);
    }
    expect(busy.aborted).toBeUndefined();
    busy.abort(new Error('done'));
    await serving2;
    expect(ex.stats.stalledFrames).toBe(1);
  });
});
