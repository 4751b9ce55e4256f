// The model's version 2 exchange rules (src/gossip/exchange.ts as of b193371; grafting, added
// later, is off for these and checked on its own at the end), checked from the
// engine's trace of every exchange write (`t=T ex v>p tick|answer #id triples`), its arrival
// (`t=T ex-in #id`) and every checkpoint a node takes, recomputed here without the engine's
// bookkeeping:
// - an item taken from a lazy link (a WANT answer from a peer v does not push to) is pushed to
//   v's eager peers at v's first tick at or after LAZY_HOLD_MS, and never to one that sent it;
// - a peer that sent COSIGS on a text v holds is never sent that text;
// - the WANT wait adapts: each copy of a cosignature the node already fetched with a WANT adds
//   WANT_DELAY_STEP_MS, the excess over WANT_DELAY_MS decays by 10 % per second (recomputed here
//   from the traced arrivals and WANTs): no item is first asked for sooner than that wait;
// - a WANT is answered at once (the answer leaves when the WANT arrives, not at a tick), and the
//   items answering WANTs in the result are those of the traced answers.
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/sim/scenario.js';
import { ModelEngine } from '../../src/sim/model/engine.js';
import { EXCHANGE_TICK_MS, LAZY_HOLD_MS, WANT_DELAY_MAX_MS, WANT_DELAY_MS, WANT_DELAY_STEP_MS } from '../../src/gossip/exchange.js';

const T = EXCHANGE_TICK_MS;
// 40 nodes: the eager overlay (each node picks EAGER_DEGREE = 1 peer) falls apart into several
// parts, joined by HAVE/WANT. A quarter of the witnesses pushed, the rest learn only by gossip (no
// polling within the run). Per-hop latency lognormal: writes overtake each other.
const scenario = (nodes: number, degree: number, push: number) =>
  parseScenario(
    {
      name: 'rules',
      duration: '40s',
      network: { nodes, topology: 'random-regular', degree, meshDegree: 3, latency: { distribution: 'lognormal', median: '40ms', p99: '250ms' }, version: 2 },
      logs: { count: 2, interval: '3s', batch: 4 },
      witnesses: { push, pollInterval: '10h' },
      signatures: 'modelled',
    },
    'rules.yaml',
  );

interface Write {
  t: number;
  /** Arrival time (undefined: lost). */
  arr?: number;
  from: number;
  to: number;
  what: 'tick' | 'answer';
  items: [kind: 'item' | 'have' | 'want', item: number, w: number][];
}

function parse(lines: readonly string[]): { writes: Write[]; textAt: Map<string, number> } {
  const out: Write[] = [];
  const byId = new Map<string, Write>();
  const textAt = new Map<string, number>(); // `${node} ${item}` -> when it took the checkpoint
  for (const l of lines) {
    const a = /^t=([\d.e+-]+) ex-in #(\d+)$/.exec(l);
    if (a) {
      byId.get(a[2])!.arr = Number(a[1]);
      continue;
    }
    const c = /^t=([\d.e+-]+) node (\d+) takes checkpoint (\d+)$/.exec(l);
    if (c) {
      textAt.set(`${c[2]} ${c[3]}`, Number(c[1]));
      continue;
    }
    const m = /^t=([\d.e+-]+) ex (\d+)>(\d+) (tick|answer) #(\d+) ?(.*)$/.exec(l);
    if (!m) continue;
    const items = m[6]
      .split(' ')
      .filter((x) => x !== '')
      .map((x) => {
        const p = x.split(':');
        return (p.length === 2 ? ['item', Number(p[0]), Number(p[1])] : [p[0], Number(p[1]), Number(p[2])]) as Write['items'][number];
      });
    const w: Write = { t: Number(m[1]), from: Number(m[2]), to: Number(m[3]), what: m[4] as Write['what'], items };
    byId.set(m[5], w);
    out.push(w);
  }
  return { writes: out, textAt };
}

async function run(seed: number, nodes = 40, degree = 6, push = 0.25, graft = false) {
  // Without grafting unless asked: these rules are checked against a fixed eager overlay.
  const eng = new ModelEngine(scenario(nodes, degree, push), seed, { graft });
  eng.enableTrace();
  const result = await eng.run();
  const { writes, textAt } = parse(eng.traceLines);
  const eager = Array.from({ length: nodes }, (_, v) => new Set(eng.eagerOf(v)));
  return { result, writes, textAt, eager };
}

describe('model: gossip version 2 exchange rules (trace)', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: lazily taken items wait LAZY_HOLD_MS before the eager push, never to a peer that sent them`, async () => {
      const { writes, textAt, eager } = await run(seed);
      expect(writes.length).toBeGreaterThan(100);
      // Each node's tick phase, from its tick writes (all at phase + k·T).
      const phase = new Map<number, number>();
      for (const w of writes) if (w.what === 'tick' && !phase.has(w.from)) phase.set(w.from, ((w.t % T) + T) % T);
      // Per node and item: the first arrival (time, sender); the first arrival per sender.
      const first = new Map<string, { at: number; from: number }>();
      const got = new Map<string, number>();
      for (const w of writes) {
        if (w.arr === undefined) continue;
        for (const [kind, item, x] of w.items) {
          if (kind !== 'item') continue;
          const k = `${w.to} ${item}:${x}`;
          if (!first.has(k) || first.get(k)!.at > w.arr) first.set(k, { at: w.arr, from: w.from });
          const g = `${k} ${w.from}`;
          if (!got.has(g) || got.get(g)! > w.arr) got.set(g, w.arr);
        }
      }
      let held = 0; // pushes of lazily taken items (the rule set their time)
      let spared = 0; // eager peers that sent a held item during the hold: not pushed to
      for (const [k, f] of first) {
        const [v, key] = k.split(' ');
        const node = Number(v);
        const [item, x] = key.split(':').map(Number);
        if (eager[node].has(f.from)) continue; // came over an eager link: no hold
        if (x === -1 && textAt.get(`${node} ${item}`)! < f.at - 1e-9) continue; // from the log first
        const until = f.at + LAZY_HOLD_MS;
        const ph = phase.get(node)!;
        const release = ph + T * Math.ceil((until - ph) / T - 1e-9);
        for (const p of eager[node]) {
          const pushes = writes.filter((w) => w.from === node && w.to === p && w.what === 'tick' && w.items.some(([kind, i, y]) => kind === 'item' && i === item && y === x));
          const theirs = got.get(`${k} ${p}`);
          if (theirs !== undefined && theirs <= release + 1e-6) {
            expect(pushes, `${k} to ${p}: it sent it at ${theirs}`).toEqual([]);
            spared++;
            continue;
          }
          // Not before the hold's end; at the first tick at or after it (never if p does not track the key).
          for (const w of pushes) expect(w.t, `${k} to ${p}`).toBeGreaterThanOrEqual(until - 1e-6);
          if (pushes.length > 0) {
            expect(pushes.length).toBe(1);
            expect(pushes[0].t).toBeCloseTo(release, 6);
            held++;
          }
        }
      }
      expect(held).toBeGreaterThan(0);
      expect(spared).toBeGreaterThan(0);
    });
  }

  it('a peer that sent COSIGS on a text the node held is never sent that text', async () => {
    let decided = 0; // eager peers that, without the rule, would have been pushed the text
    for (const seed of [1, 2, 3, 4]) {
      const { writes, textAt, eager } = await run(seed, 16, 4, 0.5);
      const hasText = (y: Write, item: number) => y.items.some(([k, i, x]) => k === 'item' && i === item && x === -1);
      const seen = new Set<string>();
      for (const w of writes) {
        const arr = w.arr;
        if (arr === undefined) continue;
        const v = w.to;
        const p = w.from;
        for (const item of new Set(w.items.filter(([k, , x]) => k === 'item' && x >= 0).map(([, i]) => i))) {
          const held = textAt.get(`${v} ${item}`);
          if (held === undefined || held > arr || seen.has(`${v} ${p} ${item}`)) continue;
          // v got the text from p (with these COSIGS or before), or sent it to p before: nothing to decide.
          if (writes.some((y) => y.from === p && y.to === v && y.arr !== undefined && y.arr <= arr && hasText(y, item))) continue;
          if (writes.some((y) => y.from === v && y.to === p && y.t < arr && hasText(y, item))) continue;
          seen.add(`${v} ${p} ${item}`);
          if (eager[v].has(p)) decided++;
          const after = writes.filter((y) => y.from === v && y.to === p && y.t >= arr && hasText(y, item));
          expect(after, `seed ${seed}: node ${v} sent text ${item} to ${p} after its COSIGS at ${arr}`).toEqual([]);
        }
      }
    }
    expect(decided).toBeGreaterThan(0);
  });

  it('the WANT wait grows with eager copies trailing WANTed items and decays back; no first WANT comes sooner', async () => {
    let decided = 0; // first WANTs later than the fixed 500 ms wait would have sent them
    let maxWait = 0;
    for (const seed of [1, 2]) {
      const { writes } = await run(seed);
      // Per node, in time order: arrivals of items and HAVE entries, and its WANT writes.
      type Ev = { t: number; kind: 'in' | 'want'; w: Write };
      const evs = new Map<number, Ev[]>();
      const add = (v: number, e: Ev) => {
        let l = evs.get(v);
        if (!l) evs.set(v, (l = []));
        l.push(e);
      };
      for (const w of writes) {
        if (w.arr !== undefined) add(w.to, { t: w.arr, kind: 'in', w });
        if (w.items.some(([k]) => k === 'want')) add(w.from, { t: w.t, kind: 'want', w });
      }
      for (const [, l] of evs) {
        l.sort((a, b) => a.t - b.t || (a.kind === 'want' ? -1 : 1));
        const held = new Set<string>();
        const asked = new Set<string>();
        const seen = new Map<string, number>();
        let wait = WANT_DELAY_MS;
        let at = 0;
        const waitAt = (t: number) => WANT_DELAY_MS + (wait - WANT_DELAY_MS) * Math.pow(0.9, Math.max(0, t - at) / 1000);
        const decay = (t: number) => {
          wait = waitAt(t);
          at = t;
        };
        for (const e of l) {
          for (const [k, i, x] of e.w.items) {
            if (x < 0) continue;
            const key = `${i}:${x}`;
            if (e.kind === 'in' && k === 'item') {
              if (held.has(key) && asked.has(key)) {
                decay(e.t);
                wait = Math.min(WANT_DELAY_MAX_MS, wait + WANT_DELAY_STEP_MS);
                maxWait = Math.max(maxWait, wait);
              }
              held.add(key);
            } else if (e.kind === 'in' && k === 'have' && !held.has(key) && !seen.has(key)) seen.set(key, e.t);
            else if (e.kind === 'want' && k === 'want' && !asked.has(key)) {
              asked.add(key);
              const lastChange = at;
              const prevWait = waitAt(e.t - T);
              decay(e.t);
              const waited = e.t - seen.get(key)!;
              expect(waited, `WANT for ${key} at ${e.t}`).toBeGreaterThanOrEqual(wait - 1e-6);
              // Not due at the node's tick before (it ticks every T once the shortest wait is over),
              // when the wait did not jump in between and that tick asked nobody about this text
              // (one announcer per text and tick: what another holds waits for the next tick).
              const prev = e.t - T;
              const busy = l.some((y) => y.kind === 'want' && Math.abs(y.t - prev) < 1e-6 && y.w.items.some(([k2, i2]) => k2 === 'want' && i2 === i));
              if (!busy && prev - seen.get(key)! >= WANT_DELAY_MS && lastChange <= prev) expect(prev - seen.get(key)!, `WANT for ${key} at ${e.t}: due a tick earlier`).toBeLessThan(prevWait + 1e-6);
              if (waited >= WANT_DELAY_MS + T + 1e-6) decided++;
            }
          }
        }
      }
    }
    expect(maxWait).toBeGreaterThan(WANT_DELAY_MS + T);
    expect(decided).toBeGreaterThan(0);
  });

  it('a WANT is answered when it arrives, with what it asked for; the result counts those items', async () => {
    const { result, writes } = await run(1);
    const answers = writes.filter((w) => w.what === 'answer');
    expect(answers.length).toBeGreaterThan(0);
    for (const a of answers) {
      // The WANT it answers: a write from a.to to a.from that arrived exactly now, asking for these items.
      const asked = writes.filter((w) => w.from === a.to && w.to === a.from && w.arr !== undefined && Math.abs(w.arr - a.t) < 1e-9 && w.items.some(([k]) => k === 'want'));
      expect(asked.length, `answer at ${a.t}`).toBe(1);
      const wanted = new Set(asked[0].items.filter(([k]) => k === 'want').map(([, i, x]) => `${i}:${x}`));
      for (const [k, i, x] of a.items) {
        expect(k).toBe('item');
        expect(wanted.has(`${i}:${x}`)).toBe(true);
      }
      // WANTs wait WANT_DELAY_MS after the announcement.
      expect(asked[0].t).toBeGreaterThanOrEqual(WANT_DELAY_MS);
    }
    const answered = answers.reduce((n, a) => n + a.items.length, 0);
    expect(result.exchange!.itemsAnsweringWant).toBe(answered);
  });
});

describe('model: grafting joins the eager overlay (Exchange.graftCheck)', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: the chosen links fall apart into several trees; the grafts join them into one`, async () => {
      const { eager, result } = await run(seed, 40, 6, 0.25, true);
      const { eager: fixed } = await run(seed, 40, 6, 0.25, false);
      const eng = new ModelEngine(scenario(40, 6, 0.25), seed);
      // Before anything runs: only the chosen links (EAGER_DEGREE per node), several trees.
      const trees = (sets: Set<number>[]) => {
        const seen = new Set<number>();
        let n = 0;
        for (let v = 0; v < sets.length; v++) {
          if (seen.has(v)) continue;
          n++;
          const stack = [v];
          seen.add(v);
          while (stack.length > 0) for (const p of sets[stack.pop()!]) if (!seen.has(p)) (seen.add(p), stack.push(p));
        }
        return n;
      };
      expect(trees(Array.from({ length: 40 }, (_, v) => new Set(eng.eagerOf(v))))).toBeGreaterThan(1);
      // At the end of the run: one tree (grafted), everything delivered.
      expect(trees(fixed)).toBeGreaterThan(1); // without grafting they stay apart
      expect(trees(eager)).toBe(1);
      expect(result.deliveryRatio).toBe(1);
    });
  }
});
