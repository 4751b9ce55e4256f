// a peer that announces (HAVE) more of a text than the honest announcer, and never answers
// WANTs, wins the announcer choice in Exchange.wants() on every try (score = items claimed, the
// last-asked peer loses only 0.5), so the item is asked of it WANT_TRIES times and given up: the
// honest announcer is never asked, and never announces again (the item is "known" to this node).
import { afterEach, expect, it, vi } from 'vitest';
import { waitFor } from '../helpers.js';
import { Exchange, encodeHello, encodeDigests, FRAME, FrameReader, decodeDigests, REF_BYTES, shortLogId, type ExchangeDeps } from '../../../src/gossip/exchange.js';

afterEach(() => vi.useRealTimers());

function inbound() {
  const q: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const it = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (q.length > 0) yield q.shift()!;
        if (done) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
    abort() { done = true; wake?.(); },
  };
  return { stream: it, push: (b: Uint8Array) => { q.push(b); wake?.(); }, end: () => { done = true; wake?.(); } };
}

it('an announcer that claims more and never answers cannot make this node give up items an honest peer announced', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  const origin = 'example.com/audit-want';
  const keys = ['self.example+00000001', 'w1.example+00000002', 'w2.example+00000003', 'w3.example+00000004'];
  const sent = new Map<string, Uint8Array[]>();
  const peerObj = (id: string) => ({ toString: () => id });
  const peers = ['honest', 'liar'];
  const deps: ExchangeDeps = {
    host: {
      async dialProtocol(p) {
        const id = p.toString();
        sent.set(id, []);
        return { send: (f: Uint8Array) => { sent.get(id)!.push(f); return true; }, abort() {}, addEventListener() {}, writeBufferLength: 0 } as never;
      },
      getPeers: () => peers.map(peerObj) as never,
    },
    selfId: 'self',
    hello: () => ({ version: 2, logs: [shortLogId(origin)], keys }),
    pqKeys: new Set(),
    onCheckpoint: () => 'new',
    onCosig: () => 'unknown-ref',
    penalise: () => {},
    logger: { debug() {}, info() {} },
  };
  const ex = new Exchange(deps);
  const ins = new Map<string, ReturnType<typeof inbound>>();
  for (const p of peers) {
    const i = inbound();
    ins.set(p, i);
    void ex.serve(i.stream as never, { remotePeer: peerObj(p) } as never);
    i.push(encodeHello({ version: 2, logs: [shortLogId(origin)], keys }));
  }
  await waitFor(() => ex.stats.framesIn >= peers.length, 'both HELLOs read');
  const ref = new Uint8Array(REF_BYTES).fill(7);
  // The honest peer holds the text and w1's cosignature on it; this node holds neither.
  ins.get('honest')!.push(encodeDigests(FRAME.have, [{ ref, text: true, bits: Uint8Array.of(0b0010), pq: new Uint8Array(0) }]));
  // The liar claims the text and every key (w2, w3 never cosigned it).
  ins.get('liar')!.push(encodeDigests(FRAME.have, [{ ref, text: true, bits: Uint8Array.of(0b1110), pq: new Uint8Array(0) }]));
  await waitFor(() => ex.stats.framesIn >= peers.length + 2, 'both HAVEs read');
  const wantsTo = (p: string) => (sent.get(p) ?? []).flatMap((b) => new FrameReader().push(b)).filter((f) => f.type === FRAME.want).flatMap((f) => decodeDigests(f.payload));
  let t = Date.now();
  for (let k = 0; k < 200; k++) { // 20 s of ticks
    t += 100;
    vi.setSystemTime(t);
    ex.tick();
  }
  // The honest announcer must be asked at some point (it holds the text and w1's line).
  expect(wantsTo('honest').length).toBeGreaterThan(0);
  ex.stop();
});
