// The node's long-lived parts start in one declared order and stop in reverse (src/node/lifecycle.ts);
// a failure mid-start stops what already started.
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parts, LifecycleOrderError, type LifecycleEvent, type Part } from '../../src/node/lifecycle.js';
import { startWitnessNode, NODE_START_ORDER } from '../../src/node/witness-node.js';
import { parseConfig } from '../../src/config.js';
import { MemoryStore } from '../../src/store/memory.js';
import { generateKey } from '../../src/note/keys.js';
import { writeKeyFile } from '../../src/keys/keyfile.js';

function recorder(): { log: string[]; part: (name: string, failStart?: boolean, failStop?: boolean) => Part } {
  const log: string[] = [];
  return {
    log,
    part: (name, failStart = false, failStop = false) => ({
      name,
      async start() {
        log.push(`start ${name}`);
        if (failStart) throw new Error(`${name} cannot start`);
      },
      async stop() {
        log.push(`stop ${name}`);
        if (failStop) throw new Error(`${name} cannot stop`);
      },
    }),
  };
}

describe('Parts', () => {
  it('starts in the declared order and stops in reverse, once', async () => {
    const r = recorder();
    const parts = new Parts(['a', 'b', 'c']);
    for (const n of ['a', 'b', 'c']) await parts.start(r.part(n));
    expect(parts.names).toEqual(['a', 'b', 'c']);
    await parts.stop();
    await parts.stop();
    expect(r.log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('a part may be absent, but none may start out of order, twice, or unknown', async () => {
    const r = recorder();
    const parts = new Parts(['a', 'b', 'c']);
    await parts.start(r.part('b'));
    await expect(parts.start(r.part('a'))).rejects.toThrow(LifecycleOrderError);
    await expect(parts.start(r.part('b'))).rejects.toThrow(/out of order/);
    await expect(parts.start(r.part('x'))).rejects.toThrow(/not in the start order/);
    await parts.start(r.part('c'));
    expect(r.log).toEqual(['start b', 'start c']);
    expect(() => new Parts(['a', 'a'])).toThrow(/duplicate/);
  });

  it('a failure mid-start stops what already started, in reverse, and rethrows', async () => {
    const r = recorder();
    const events: LifecycleEvent[] = [];
    const parts = new Parts(['a', 'b', 'c', 'd'], (e) => events.push(e));
    await parts.start(r.part('a'));
    await parts.start(r.part('b'));
    await expect(parts.start(r.part('c', true))).rejects.toThrow('c cannot start');
    expect(r.log).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
    expect(events.map((e) => `${e.action} ${e.part} ${e.ok}`)).toEqual(['start a true', 'start b true', 'start c false', 'stop b true', 'stop a true']);
    await expect(parts.start(r.part('d'))).rejects.toThrow(/after stop/);
  });

  it('stop goes on past a part that fails to stop, then throws its error', async () => {
    const r = recorder();
    const parts = new Parts(['a', 'b', 'c']);
    await parts.start(r.part('a'));
    await parts.start(r.part('b', false, true));
    await parts.start(r.part('c'));
    await expect(parts.stop()).rejects.toThrow('b cannot stop');
    expect(r.log.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
  });
});

describe('witness node parts', () => {
  const dirs: string[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function config(httpPort: number) {
    const dir = mkdtempSync(join(tmpdir(), 'gw-parts-'));
    dirs.push(dir);
    const key = generateKey('parts.example');
    writeKeyFile(join(dir, 'w.key'), key);
    const log = generateKey('log.example');
    const yaml =
      `name: parts.example\nkey: ${join(dir, 'w.key')}\ndata: ${join(dir, 'd')}\nhttp: { listen: "127.0.0.1:${httpPort}" }\n` +
      `logs:\n  - origin: example.com/parts\n    vkeys: ["${log.vkey}"]\n` +
      `p2p:\n  listen: [/ip4/127.0.0.1/tcp/0]\n  allowLoopback: true\n  startupSync: 0s\n`;
    return parseConfig(yaml, join(dir, 'w.yaml'));
  }

  it('starts store, logs, watchdog, gossip, HTTP, feeders in that order and closes them in reverse', async () => {
    const events: LifecycleEvent[] = [];
    const node = await startWitnessNode(config(0), { store: new MemoryStore(), onLifecycle: (e) => events.push(e) });
    expect(node.parts).toEqual([...NODE_START_ORDER]);
    expect(events.map((e) => `${e.action} ${e.part}`)).toEqual(NODE_START_ORDER.map((p) => `start ${p}`));
    await node.close();
    expect(events.slice(NODE_START_ORDER.length).map((e) => `${e.action} ${e.part} ${e.ok}`)).toEqual([...NODE_START_ORDER].reverse().map((p) => `stop ${p} true`));
    await expect(node.store.getState('example.com/parts')).rejects.toThrow(/closed/);
  });

  it('an HTTP port in use: the node stops gossip, watchdog, logs and store (in reverse) and start fails', async () => {
    const busy = createServer();
    servers.push(busy);
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const events: LifecycleEvent[] = [];
    const store = new MemoryStore();
    await expect(startWitnessNode(config(port), { store, onLifecycle: (e) => events.push(e) })).rejects.toThrow(/EADDRINUSE|address already in use/);
    expect(events.map((e) => `${e.action} ${e.part} ${e.ok}`)).toEqual([
      'start store true',
      'start logs true',
      'start store-watchdog true',
      'start gossip true',
      'start http false',
      'stop gossip true',
      'stop store-watchdog true',
      'stop logs true',
      'stop store true',
    ]);
    await expect(store.getState('example.com/parts')).rejects.toThrow(/closed/);
  });
});
