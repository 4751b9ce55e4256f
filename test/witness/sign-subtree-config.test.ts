// The config's signSubtree block reaches POST /sign-subtree: the per-client limit (rate, burst)
// and the answer cache (cacheSize; 0 disables it), through a whole node over HTTP.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { writeKeyFile } from '../../src/keys/keyfile.js';
import { generateKey, parseNote } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { formatSignSubtreeBody } from '../../src/witness/subtree-request.js';
import { subtreeConsistencyProof, subtreeHash } from '../../src/merkle/subtree.js';
import { TestLog } from '../helpers/fork.js';

const NAME = 'witness.example/w1';
const dir = mkdtempSync(join(tmpdir(), 'gw-subtree-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let node: WitnessNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

let n = 0;
async function start(signSubtree: string) {
  const log = new TestLog('example.com/log').append(16);
  const sub = mkdtempSync(join(dir, `n${n++}-`));
  writeKeyFile(join(sub, 'ed.key'), generateKey(NAME));
  writeKeyFile(join(sub, 'pq.key'), mlDsa44KeyFromSeed(NAME, new Uint8Array(32).fill(3)));
  const yaml = `name: ${NAME}\nkey: [ed.key, pq.key]\ndata: data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: ${log.origin}, vkeys: ["${log.key.vkey}"] }\n${signSubtree}`;
  node = await startWitnessNode(parseConfig(yaml, join(sub, 'w.yaml')), { store: new MemoryStore() });
  const r = await fetch(`${node.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointBody(0n, [], log.checkpoint()) });
  expect(r.status).toBe(200);
  const ref = parseNote(log.checkpoint()).text + '\n' + (await r.text());
  const post = (start: bigint, end: bigint) =>
    fetch(`${node!.url}/sign-subtree`, { method: 'POST', body: formatSignSubtreeBody(start, end, subtreeHash(start, end, log.tree.hasher), subtreeConsistencyProof(start, end, 16n, log.tree.hasher), ref) });
  return { post };
}

describe('signSubtree config keys', () => {
  it('burst and rate: the second cache miss of a client with burst 1 is refused (429)', async () => {
    const { post } = await start('signSubtree: { burst: 1, rate: 0.001 }\n');
    expect((await post(0n, 8n)).status).toBe(200);
    const limited = await post(8n, 16n);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('the default burst (20) admits the same two requests', async () => {
    const { post } = await start('');
    expect((await post(0n, 8n)).status).toBe(200);
    expect((await post(8n, 16n)).status).toBe(200);
  });

  it('cacheSize 0: a repeated request is signed again (not x-cached); the default cache marks it', async () => {
    const off = await start('signSubtree: { cacheSize: 0 }\n');
    expect((await off.post(0n, 8n)).headers.get('x-cached')).toBeNull();
    expect((await off.post(0n, 8n)).headers.get('x-cached')).toBeNull();
    await node!.close();
    node = undefined;
    const on = await start('');
    expect((await on.post(0n, 8n)).headers.get('x-cached')).toBeNull();
    expect((await on.post(0n, 8n)).headers.get('x-cached')).toBe('true');
  });
});
