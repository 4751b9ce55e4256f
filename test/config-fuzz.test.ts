// The witness config is an entry point: whatever shape a file has, parseConfig either returns a
// config or throws a ConfigError that names the file and each problem's field; it never throws
// anything else (a TypeError from code that trusted the validator's output) and never accepts a
// value of the wrong type. Structured mutations of a full config
// (every key used): values replaced by other YAML types, keys removed, unknown keys added,
// mappings replaced by lists. Deterministic: a failing input is regenerated from its index.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig, ConfigError } from '../src/config.js';
import { generateKey } from '../src/note/index.js';

const LOG = generateKey('example.com/log');
const W2 = { vkey: generateKey('w2.example/w').cosignatureVkey };

const FULL = (): Record<string, unknown> => ({
  name: 'witness.example/w1',
  key: ['w1.key', 'w1-mldsa.key'],
  data: 'w1-data',
  http: { listen: '127.0.0.1:7380', bodyLimit: 524288, maxConnections: 1024, trustProxy: ['10.0.0.0/8'] },
  logs: [
    { origin: 'example.com/log', vkeys: [LOG.vkey], qpd: 86400, disabled: false, contact: 'ops@example.com', pull: { type: 'tiles', url: 'https://log.example/', interval: '10s', timeout: '5s', maxBackoff: '5m', forward: ['https://w2.example/'], tileCache: 64 } },
  ],
  logList: 'logs.txt',
  logListRefresh: '1h',
  p2p: { listen: ['/ip4/127.0.0.1/tcp/7381'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 100, meshDegree: 3, maxInboundStreams: 256, maxInboundStreamBytes: 33554432, reservedSlots: 2, startupSync: '5s', identity: 'id.key', version: 2 },
  store: { unwritableExitAfter: '5m' },
  signSubtree: { cacheSize: 4096, rate: 2, burst: 20, maxClients: 10000 },
  witnesses: [{ name: 'w2', vkey: W2.vkey }],
});

function rng(seed: number): () => number {
  let x = seed | 0;
  return () => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

const ODD_VALUES: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53 + 2, Number.POSITIVE_INFINITY, Number.NaN, '', ' ', 'x', '-1', '5q', '\u0000', [], [null], [1, 'a'], {}, { a: 1 }, { __proto__: 1, constructor: 2 }, 'postgres://u@h/db', '[::1]:0', 'https://x.example/?q=1'];

/** Paths to every value in a JSON-like tree (objects and arrays), root excluded. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([...at, i]), paths(x, [...at, i], out)));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push([...at, k]), paths(x, [...at, k], out));
  return out;
}

function mutate(index: number): unknown {
  const r = rng(index * 7919 + 17);
  const doc = FULL();
  const n = 1 + Math.floor(r() * 3);
  for (let m = 0; m < n; m++) {
    const all = paths(doc);
    const p = all[Math.floor(r() * all.length)];
    let parent: any = doc;
    for (const seg of p.slice(0, -1)) parent = parent[seg];
    const last = p[p.length - 1];
    const kind = r();
    if (kind < 0.55) parent[last] = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
    else if (kind < 0.7) Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
    else if (kind < 0.85 && !Array.isArray(parent)) parent[`unknown${Math.floor(r() * 3)}`] = 1;
    else parent[last] = [parent[last]];
  }
  return doc;
}

describe('config: structured fuzzing (every shape gets a ConfigError or a config, never a crash)', () => {
  it('2,000 mutated configs', () => {
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const text = stringify(mutate(i));
      try {
        const c = parseConfig(text, '/etc/w.yaml');
        accepted++;
        // What was accepted has the types the node relies on.
        expect(typeof c.name, `input ${i}`).toBe('string');
        expect(c.keyFiles.every((k) => typeof k === 'string'), `input ${i}`).toBe(true);
        expect(Number.isInteger(c.http.bodyLimit) && Number.isInteger(c.http.maxConnections), `input ${i}`).toBe(true);
        for (const l of c.logs) expect(typeof l.origin === 'string' && l.verifiers.length > 0, `input ${i}`).toBe(true);
        if (c.p2p) expect(Number.isInteger(c.p2p.meshDegree) && typeof c.p2p.allowLoopback === 'boolean', `input ${i}`).toBe(true);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`input ${i} threw ${(e as Error).name}: ${(e as Error).message}\n${text}`);
        refused++;
        expect(e.problems.length, `input ${i}`).toBeGreaterThan(0);
        for (const p of e.problems) expect(p.reason.length, `input ${i}: ${JSON.stringify(p)}`).toBeGreaterThan(0);
      }
    }
    // Both outcomes occur: the mutations neither all break the file nor all leave it valid.
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(500);
  });

  it('the unmutated full config is accepted (the corpus starts from a valid file)', () => {
    expect(() => parseConfig(stringify(FULL()), '/etc/w.yaml')).not.toThrow();
  });
});
