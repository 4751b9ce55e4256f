// Gossip version 2's lazy push (docs/gossip.md, "Wire format version 2"): HAVE digests, WANT for
// what is missing, and what may not be penalised (a WANT for what the node does not hold, a HAVE
// nobody serves) against what is provably malformed (a bitmap bit outside the receiver's HELLO).
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { Net, push, waitFor } from './helpers.js';
import { decodeCosigs, decodeDigests, decodeHello, encodeDigests, encodeFrame, FRAME, FrameReader, REF_BYTES, type Digest } from '../../src/gossip/exchange.js';

let net: Net | undefined;
afterEach(async () => {
  await net?.stop();
  net = undefined;
});

const spec = (log: TestLog) => ({ origin: log.origin, vkey: log.key.vkey });

describe('HAVE / WANT digests', () => {
  it('encode and decode: REF, text flag, both bitmaps; malformed ones are refused', () => {
    const d: Digest[] = [
      { ref: Uint8Array.from({ length: REF_BYTES }, (_, i) => i + 1), text: true, bits: Uint8Array.of(0b101), pq: new Uint8Array(0) },
      { ref: new Uint8Array(REF_BYTES).fill(9), text: false, bits: new Uint8Array(0), pq: Uint8Array.of(0, 2) },
    ];
    const frame = encodeDigests(FRAME.have, d);
    const [f] = new FrameReader().push(frame);
    expect(f.type).toBe(FRAME.have);
    const back = decodeDigests(f.payload);
    expect(back.map((x) => ({ ref: [...x.ref], text: x.text, bits: [...x.bits], pq: [...x.pq] }))).toEqual(d.map((x) => ({ ref: [...x.ref], text: x.text, bits: [...x.bits], pq: [...x.pq] })));
    expect(() => decodeDigests(Uint8Array.of(1, 1, 2))).toThrow(/truncated/);
    expect(() => decodeDigests(Uint8Array.of(1, ...new Array(REF_BYTES).fill(0), 2, 0, 0))).toThrow(/flags/);
    expect(() => decodeDigests(Uint8Array.of(1, ...new Array(REF_BYTES).fill(0), 0, 0, 0, 7))).toThrow(/trailing/);
  });
});

describe('FrameReader', () => {
  it('gives the same frames however the stream is cut (1-byte pieces, random pieces, all at once); refuses oversized and empty frames', () => {
    const frames = [encodeFrame(FRAME.have, new Uint8Array(3).fill(1)), encodeFrame(FRAME.checkpoint, new Uint8Array(200_000).fill(2)), encodeFrame(FRAME.eager, Uint8Array.of(1)), encodeFrame(FRAME.want, new Uint8Array(130).fill(4))];
    const stream = Uint8Array.from(frames.flatMap((f) => [...f]));
    const read = (cut: (i: number) => number) => {
      const r = new FrameReader();
      const out: string[] = [];
      for (let i = 0; i < stream.length; ) {
        const n = Math.max(1, Math.min(cut(i), stream.length - i));
        for (const f of r.push(stream.subarray(i, i + n))) out.push(`${f.type}:${f.payload.length}:${f.payload[0]}`);
        i += n;
      }
      return out;
    };
    const expected = ['4:3:1', '2:200000:2', '6:1:1', '5:130:4'];
    expect(read(() => stream.length)).toEqual(expected);
    expect(read(() => 1)).toEqual(expected);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) % 5000) + 1;
    for (let k = 0; k < 20; k++) expect(read(rnd)).toEqual(expected);
    // A reused input buffer does not change frames already taken in.
    const r = new FrameReader();
    const buf = frames[1].slice();
    r.push(buf.subarray(0, 1000));
    buf.fill(9, 0, 1000);
    expect(r.push(frames[1].subarray(1000))[0].payload[5]).toBe(2);
    // One chunk may hold several whole frames, together over the frame limit.
    const three = encodeFrame(FRAME.checkpoint, new Uint8Array(300_000).fill(3));
    expect(new FrameReader().push(Uint8Array.from([...three, ...three, ...three])).map((f) => f.payload.length)).toEqual([300_000, 300_000, 300_000]);
    expect(() => new FrameReader().push(Uint8Array.of(0))).toThrow(/empty frame/);
    expect(() => new FrameReader().push(Uint8Array.of(0x80, 0x80, 0x40))).toThrow(/frame over/);
  });
});

describe('gossip version 2: lazy push', () => {
  it('a HAVE is answered with a WANT; a WANT with the verified items; a WANT for what is not held and an unanswered HAVE cost nothing; a bit outside the HELLO is penalised', async () => {
    const { generateKeyPair } = await import('@libp2p/crypto/keys');
    const { multiaddr } = await import('@multiformats/multiaddr');
    const { createGossipHost } = await import('../../src/gossip/host.js');
    const { EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2 } = await import('../../src/gossip/wire.js');
    const { EXCHANGE_PROTOCOL, encodeHello, REF_BYTES, shortLogId } = await import('../../src/gossip/exchange.js');
    const log = new TestLog('example.com/v2-lazy').append(4);
    net = await Net.start(2, { logs: [spec(log)], version: () => 2 });
    await net.ready();
    const victim = net.nodes[0];
    const host = await createGossipHost({ topics: [EVIDENCE_TOPIC_V2], p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 50 }, privateKey: await generateKeyPair('Ed25519'), isBanned: () => false, retainScoreMs: 60_000 });
    // Frames the victim writes to us (on its own stream to our exchange handler).
    const got: { type: number; payload: Uint8Array }[] = [];
    try {
      host.services.pubsub.subscribe(EVIDENCE_TOPIC_V2);
      await host.handle(SYNC_PROTOCOL_V2, (stream) => void (async () => { try { for await (const _ of stream as never as AsyncIterable<unknown>) { /* read */ } } catch { /* aborted */ } })());
      await host.handle(EXCHANGE_PROTOCOL, (stream) => void (async () => {
        const r = new FrameReader();
        try {
          for await (const c of stream as never as AsyncIterable<Uint8Array | { subarray(): Uint8Array }>) got.push(...r.push(c instanceof Uint8Array ? c : c.subarray()));
        } catch { /* aborted */ }
      })());
      await host.dial(multiaddr(victim.addr));
      for (const n of net.nodes) await push(n.node, log);
      await waitFor(() => victim.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 2, 'both cosignatures at the victim');
      const head = victim.node.gossip!.viewOf(log.origin)!.head()!;
      const ref = Uint8Array.from(Buffer.from(head.textHash.slice(0, 2 * REF_BYTES), 'hex'));
      const victimId = victim.node.gossip!.peerId;
      const s = await host.dialProtocol(host.getPeers().find((p) => p.toString() === victimId)!, EXCHANGE_PROTOCOL);
      void (async () => { try { for await (const _ of s as never as AsyncIterable<unknown>) { /* read */ } } catch { /* aborted */ } })();
      // Our HELLO: we follow the log and track what the victim tracks (its HELLO: its own key first).
      await waitFor(() => got.some((f) => f.type === FRAME.hello), "the victim's HELLO");
      const labels = decodeHello(got.find((f) => f.type === FRAME.hello)!.payload).keys;
      expect(labels).toHaveLength(2);
      s.send(encodeHello({ version: 2, logs: [shortLogId(log.origin)], keys: [...labels] }));
      // 1. WANT what the victim holds: the checkpoint and both cosignatures come back, verified copies.
      s.send(encodeDigests(FRAME.want, [{ ref, text: true, bits: Uint8Array.of(0b11), pq: new Uint8Array(0) }]));
      await waitFor(() => got.some((f) => f.type === FRAME.checkpoint) && got.some((f) => f.type === FRAME.cosigs && decodeCosigs(f.payload).items.length === 2), 'the answer to our WANT');
      const answered = got.find((f) => f.type === FRAME.checkpoint)!;
      expect(new TextDecoder().decode(answered.payload)).toContain(head.logNote.text);
      // 2. WANT for a text the victim does not hold: skipped, no penalty.
      s.send(encodeDigests(FRAME.want, [{ ref: new Uint8Array(REF_BYTES).fill(0xee), text: true, bits: Uint8Array.of(0b1), pq: new Uint8Array(0) }]));
      await waitFor(() => (victim.node.gossip!.exchangeStats?.wantMiss ?? 0) >= 1, 'the WANT miss counted');
      // 3. HAVE of a text the victim lacks: it WANTs it from us (after WANT_DELAY_MS); we never answer.
      const unknownRef = new Uint8Array(REF_BYTES).fill(0xab);
      s.send(encodeDigests(FRAME.have, [{ ref: unknownRef, text: true, bits: Uint8Array.of(0b10), pq: new Uint8Array(0) }]));
      await waitFor(() => got.some((f) => f.type === FRAME.want && decodeDigests(f.payload).some((d) => Buffer.from(d.ref).equals(Buffer.from(unknownRef)) && d.text)), 'a WANT for the announced text');
      // ... and asks again (the only announcer) after WANT_RETRY_MS, still without penalising us.
      await waitFor(() => got.filter((f) => f.type === FRAME.want).length >= 2, 'the WANT retried', 5000);
      expect(victim.events.filter((e) => (e.type === 'penalised' || e.type === 'banned') && e.peer === host.peerId.toString())).toEqual([]);
      // 4. A HAVE whose bitmap names a key index beyond the victim's HELLO: provably malformed.
      s.send(encodeDigests(FRAME.have, [{ ref: unknownRef, text: false, bits: Uint8Array.of(0, 0, 0, 0x80), pq: new Uint8Array(0) }]));
      await waitFor(() => victim.events.some((e) => e.type === 'penalised' && e.peer === host.peerId.toString() && e.reason === 'invalid'), 'the malformed HAVE penalised');
      // The honest pair never penalised each other.
      expect(victim.events.filter((e) => (e.type === 'penalised' || e.type === 'banned') && e.peer === net!.nodes[1].node.gossip!.peerId)).toEqual([]);
    } finally {
      await host.stop();
    }
  });

  it('six nodes on a chain: every node gets every checkpoint and cosignature, some by HAVE/WANT, nobody penalised', async () => {
    const log = new TestLog('example.com/v2-lazy-net').append(3);
    net = await Net.start(6, { logs: [spec(log)], version: () => 2 });
    await net.ready();
    for (let round = 0; round < 3; round++) {
      log.append(2);
      for (const n of net.nodes) await push(n.node, log);
      const size = log.tree.size;
      await waitFor(() => net!.nodes.every((n) => n.node.gossip!.viewOf(log.origin)?.head()?.checkpoint.size === size && n.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 6), `size ${size} with 6 cosignatures everywhere`);
    }
    const stats = net.nodes.map((n) => n.node.gossip!.exchangeStats!);
    expect(stats.reduce((t, s) => t + s.haveOut, 0)).toBeGreaterThan(0);
    for (const n of net.nodes) expect(n.events.filter((e) => e.type === 'penalised' || e.type === 'banned')).toEqual([]);
  });
});
