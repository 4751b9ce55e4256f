// In-process gossip networks for tests: N witness nodes (memory stores, real libp2p on 127.0.0.1)
// that know each other's cosignature keys, bootstrapped in a chain + to node 0.
import { mkdtempSync, rmSync } from 'node:fs';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, type Ed25519SignerKey } from '../../src/note/index.js';
import { writeKeyFile } from '../../src/keys/keyfile.js';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { GossipEvent } from '../../src/gossip/service.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import type { TestLog } from '../helpers/fork.js';
import { waitFor as waitUntil } from '../helpers/wait.js';

/** waitFor of test/helpers/wait.ts with this folder's argument order (cond, what, ms). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  await waitUntil(cond, { what, timeoutMs: ms, intervalMs: 20 });
}

export interface NetNode {
  readonly index: number;
  readonly node: WitnessNode;
  readonly key: Ed25519SignerKey;
  readonly events: GossipEvent[];
  /** The node's log lines at warn and above (JSON), with NetOptions.captureLogs. */
  readonly logLines: string[];
  readonly addr: string;
  closed: boolean;
}

export interface LogSpecForNet {
  readonly origin: string;
  readonly vkey: string;
  /** Extra YAML for the log entry (e.g. a pull block), indented as a mapping continuation. */
  readonly extra?: string;
}

export interface NetOptions {
  /** Logs every node follows (default), or per node. */
  logs: LogSpecForNet[] | ((i: number) => LogSpecForNet[]);
  /** Whether node i tracks the other nodes' keys (default all). */
  tracks?: (i: number, j: number) => boolean;
  checkDelayMs?: number;
  /** Extra witness vkeys every node tracks. */
  extraWitnesses?: string[];
  /** Extra p2p: lines for node i (YAML, each indented two spaces and ending in a newline). */
  p2pExtra?: (i: number) => string;
  /** Keep each node's warn and error log lines (NetNode.logLines). */
  captureLogs?: boolean;
  /** Gossip wire version of node i, written into its config (default: the config's, 2). */
  version?: (i: number) => 1 | 2;
}

/** Version 1 nodes, for tests written against version 1's gossipsub topics. */
export const v1 = (): 1 => 1;

export class Net {
  readonly nodes: NetNode[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'gw-gossip-'));

  static async start(n: number, opts: NetOptions): Promise<Net> {
    const net = new Net();
    try {
      await net.startNodes(n, opts);
    } catch (e) {
      await net.stop();
      throw e;
    }
    return net;
  }

  private opts!: NetOptions;
  private keys: Ed25519SignerKey[] = [];

  private async startNodes(n: number, opts: NetOptions): Promise<void> {
    this.opts = opts;
    this.keys = Array.from({ length: n }, (_, i) => generateKey(`w${i}.example`));
    for (let i = 0; i < n; i++) await this.addNode({});
  }

  /** Starts one more node (index = count so far), or a replacement with a given key and store. */
  async addNode(o: { key?: Ed25519SignerKey; store?: MemoryStore; bootstrap?: string[]; startupSync?: string; p2pExtra?: string }): Promise<NetNode> {
    const opts = this.opts;
    const i = this.nodes.length;
    const key = o.key ?? this.keys[i] ?? generateKey(`w${i}.example`);
    const keyFile = join(this.dir, `w${i}.key`);
    writeKeyFile(keyFile, key);
    const logs = typeof opts.logs === 'function' ? opts.logs(i) : opts.logs;
    const witnesses = this.keys
      .map((k, j) => ({ k, j }))
      .filter(({ k, j }) => k.vkey !== key.vkey && (opts.tracks?.(i, j) ?? true))
      .map(({ k }) => `  - { name: ${k.name}, vkey: "${k.cosignatureVkey}" }\n`)
      .join('') + (opts.extraWitnesses ?? []).map((v) => `  - { vkey: "${v}" }\n`).join('');
    const live = this.nodes.filter((n) => !n.closed);
    const bootstrap = o.bootstrap ?? (live.length === 0 ? [] : [...new Set([live[0].addr, live[live.length - 1].addr])]);
    const yaml =
      `name: ${key.name}\nkey: ${keyFile}\ndata: ${join(this.dir, `d${i}`)}\nhttp: { listen: "127.0.0.1:0" }\n` +
      `logs:\n${logs.map((l) => `  - origin: ${l.origin}\n    vkeys: ["${l.vkey}"]\n${l.extra ?? ''}`).join('')}` +
      (witnesses ? `witnesses:\n${witnesses}` : '') +
      `p2p:\n  listen: [/ip4/127.0.0.1/tcp/0]\n  allowLoopback: true\n  startupSync: ${o.startupSync ?? '3s'}\n  bootstrap: [${bootstrap.join(', ')}]\n` + (opts.version ? `  version: ${opts.version(i)}\n` : '') + (o.p2pExtra ?? opts.p2pExtra?.(i) ?? '');
    const config = parseConfig(yaml, join(this.dir, `w${i}.yaml`));
    const events: GossipEvent[] = [];
    const logLines: string[] = [];
    const logger = opts.captureLogs ? pino({ level: 'warn' }, { write: (line: string) => void logLines.push(line) }) : undefined;
    const node = await startWitnessNode(config, { store: o.store ?? new MemoryStore(), ...(logger ? { logger } : {}), gossip: { onEvent: (e) => events.push(e), ...(opts.checkDelayMs !== undefined ? { checkDelayMs: opts.checkDelayMs } : {}) } });
    const entry: NetNode = { index: i, node, key, events, logLines, addr: node.gossip!.multiaddrs[0], closed: false };
    this.nodes.push(entry);
    return entry;
  }

  async closeNode(n: NetNode): Promise<void> {
    n.closed = true;
    await n.node.close();
  }

  /** Waits until every node's gossipsub mesh has peers on the checkpoint topic. */
  async ready(minPeers = 1): Promise<void> {
    const topic = (n: NetNode) => (n.node.gossip!.version === 2 ? '/gossip-witness/evidence/2' : '/gossip-witness/cosigned-checkpoint/1');
    await waitFor(() => this.nodes.filter((n) => !n.closed).every((n) => n.node.gossip!.libp2p.services.pubsub.getSubscribers(topic(n)).length >= minPeers), 'gossipsub subscriptions');
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.filter((n) => !n.closed).map((n) => n.node.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Pushes a checkpoint to a node's witness as a log would (old size = what it holds). */
export async function push(node: WitnessNode, log: TestLog, size: bigint = log.tree.size): Promise<string> {
  const state = await node.store.getState(log.origin);
  // A log that believes the witness is new (or behind its own size) sends old 0.
  const old = state && state.size <= size ? state.size : 0n;
  const proof = old === 0n || old === size ? [] : log.tree.consistencyProof(old, size);
  const r = await node.witness.addCheckpoint(new TextEncoder().encode(formatAddCheckpointBody(old, proof, log.checkpoint(size))));
  return r.kind === 'rejected' ? `rejected:${r.code}` : r.kind;
}
