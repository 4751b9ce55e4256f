// The wiring: a witness node started from a YAML config with `pull:` pulls from a tiled log,
// exposes the feeder metrics on /metrics, rejects a bad `pull:` block at load, and stops its
// feeders on close.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestLog } from '../helpers/fork.js';
import { parseConfig, ConfigError } from '../../src/config.js';
import { startWitnessNode } from '../../src/node/witness-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TiledLogServer, waitFor } from './feeders-helpers.js';
import { countEd25519Verifications } from '../helpers/count-verify.js';
import { parseNote } from '../../src/note/note.js';
import { utf8 } from '../../src/util/bytes.js';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** A node pulling one tiled log every 20 ms (closed after the test). */
async function pulledNode(origin: string): Promise<{ log: TestLog; server: TiledLogServer; node: Awaited<ReturnType<typeof startWitnessNode>>; store: MemoryStore; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-feeders-'));
  closers.push(() => rmSync(dir, { recursive: true, force: true }));
  const log = new TestLog(origin).append(5);
  const server = await TiledLogServer.start(log);
  closers.push(() => server.close());
  server.publish();
  const config = parseConfig(
    `name: witness.example/w1\nkey: w.key\ndata: data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - origin: ${log.origin}\n    vkeys: ["${log.key.vkey}"]\n    pull: { type: tiles, url: "${server.url}/", interval: 20ms, timeout: 2s }\n`,
    join(dir, 'w.yaml'),
  );
  const store = new MemoryStore();
  const node = await startWitnessNode(config, { store });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= node.close());
  closers.push(close);
  await waitFor(async () => (await store.getState(log.origin))?.size === 5n, 'the first pull');
  return { log, server, node, store, close };
}

describe('witness node with pull feeders', () => {
  it('pulls from the configured log, counts polls in /metrics, and stops the feeders on close', async () => {
    const { log, server, node, store, close } = await pulledNode('example.com/pulled');
    log.append(300);
    server.publish();
    await waitFor(async () => (await store.getState(log.origin))?.size === 305n, 'the second pull (with a proof from tiles)');
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/witness_feeder_polls_total\{origin="example\.com\/pulled",outcome="advanced"\} [2-9]/);
    expect(node.feeders.stats()).toMatchObject([{ origin: log.origin, type: 'tiles', running: true, consecutiveFailures: 0 }]);
    await close();
    expect(node.feeders.stats()[0].running).toBe(false);
  });

  // Issue 15: "each signature verified at most once per node". The feeder verifies what it fetched,
  // hands it to the core, and fetches the same checkpoint again on every poll: one verification.
  it('verifies a pulled checkpoint\'s log signature once, however often it is polled', async () => {
    const { verified, restore } = countEd25519Verifications();
    closers.push(restore);
    const { log, node, store } = await pulledNode('example.com/pulled-once');
    const polls = () => node.feeders.stats()[0].polls;
    const after = polls();
    await waitFor(() => polls() >= after + 5, 'five more polls of the same checkpoint');
    const logLine = parseNote(utf8((await store.getState(log.origin))!.cosigned)).signatures.find((l) => l.name === log.origin)!;
    const sig = Buffer.from(logLine.base64, 'base64').subarray(4).toString('base64');
    expect(verified.filter((s) => s === sig)).toHaveLength(1);
  });

  it('a bad pull block is a config error with its path', () => {
    expect(() =>
      parseConfig(`name: w\nkey: w.key\ndata: d\nlogs:\n  - origin: a\n    vkeys: ["${new TestLog('a').key.vkey}"]\n    pull: { type: rekor, url: "https://a/", interval: soon }\n`, '/tmp/x.yaml'),
    ).toThrow(ConfigError);
    expect(() =>
      parseConfig(`name: w\nkey: w.key\ndata: d\nlogs:\n  - origin: a\n    vkeys: ["${new TestLog('a').key.vkey}"]\n    pull: { type: rekor, url: "https://a/" }\n`, '/tmp/x.yaml'),
    ).toThrow(/^config \/tmp\/x\.yaml: logs\[0\]\.pull\.type: must be one of tiles, rekor-v1, sumdb$/);
  });
});

// A key that existed and a data folder that does not: the node cannot tell a moved folder from a
// first start after keygen, so it says so at warn (docs/operator-guide.md, "Another witness's state").
describe('a data folder that does not exist for a key that did', () => {
  it('warns at start; not on the first start that creates the key', async () => {
    const { pino } = await import('pino');
    const dir = mkdtempSync(join(tmpdir(), 'gw-datadir-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = new TestLog('example.com/datadir').append(2);
    const start = async (data: string) => {
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
      const config = parseConfig(`name: witness.example/w1\nkey: w.key\ndata: ${data}\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - origin: ${log.origin}\n    vkeys: ["${log.key.vkey}"]\n`, join(dir, 'w.yaml'));
      const node = await startWitnessNode(config, { logger });
      await node.close();
      return lines.filter((l) => l.includes('the data folder does not exist'));
    };
    expect(await start('data')).toHaveLength(0); // first start: the key is created too
    expect(await start('data')).toHaveLength(0); // the folder exists now
    expect(await start('data-moved')).toHaveLength(1);
  });
});
