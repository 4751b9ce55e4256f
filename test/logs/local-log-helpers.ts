// Shared helpers for the local-log tests: HTTP GETs (with a fork header or from another loopback
// source address), tile fetchers for src/merkle/tiles.ts, real witness nodes, bounded waits.
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { openCheckpoint } from '../../src/checkpoint/signed.js';
import { parseVkey } from '../../src/note/keys.js';
import type { TileFetcher } from '../../src/merkle/tiles.js';
import { tilePath } from '../../src/merkle/tiles.js';
import type { Checkpoint } from '../../src/checkpoint/checkpoint.js';
import { waitFor as waitUntil } from '../helpers/wait.js';

export interface GetOptions {
  headers?: Record<string, string>;
  /** Source address of the connection (e.g. 127.0.0.2). */
  localAddress?: string;
}

export interface GetResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** A GET with node:http (fetch cannot choose the source address). Times out after 10 s. */
export function httpGet(url: string, o: GetOptions = {}): Promise<GetResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: 'GET',
        headers: o.headers ?? {},
        agent: false,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export async function getText(url: string, o: GetOptions = {}): Promise<string> {
  const r = await httpGet(url, o);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${new TextDecoder().decode(r.body)}`);
  return new TextDecoder().decode(r.body);
}

/** A TileFetcher over HTTP that counts requests and fails on anything but 200. */
export function httpTileFetcher(base: string, o: GetOptions = {}): TileFetcher & { requests: string[] } {
  const requests: string[] = [];
  const f = async (level: number, index: bigint, width: number): Promise<Uint8Array> => {
    const path = tilePath(level, index, width);
    requests.push(path);
    const r = await httpGet(`${base}/${path}`, o);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
    return r.body;
  };
  return Object.assign(f, { requests });
}

/** The log's checkpoint as served (verified with the log's vkey). */
export async function fetchCheckpoint(base: string, logVkey: string, o: GetOptions = {}): Promise<{ note: string; checkpoint: Checkpoint }> {
  const note = await getText(`${base}/checkpoint`, o);
  return { note, checkpoint: openCheckpoint(note, [parseVkey(logVkey)]).checkpoint };
}

/** waitFor of test/helpers/wait.ts with this folder's argument order (what, cond, ms). */
export async function waitFor<T>(what: string, cond: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  return (await waitUntil(cond, { what, timeoutMs: ms, intervalMs: 20 })) as T;
}

export interface TestWitnessNode {
  node: WitnessNode;
  url: string;
  vkey: string;
  close(): Promise<void>;
}

/** A real witness node (HTTP on a free port, MemoryStore) following one log. */
export async function startTestWitness(name: string, log: { origin: string; vkey: string }): Promise<TestWitnessNode> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-ll-witness-'));
  const config = parseConfig(
    `name: ${name}
key: w.key
data: data
http: { listen: "127.0.0.1:0" }
logs:
  - { origin: ${JSON.stringify(log.origin)}, vkeys: [ ${JSON.stringify(log.vkey)} ] }
`,
    join(dir, 'witness.yaml'),
  );
  const node = await startWitnessNode(config, { store: new MemoryStore() });
  return {
    node,
    url: node.url,
    vkey: node.vkeys[0],
    close: async () => {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
