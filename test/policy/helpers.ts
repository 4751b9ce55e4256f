// Shared test helpers for the client library (src/policy).
import { fixture } from '../helpers/fixtures.js';
import { TestLog } from '../helpers/fork.js';
import { cosigner, generateKey, parseNote, signatureLines, type Ed25519SignerKey } from '../../src/note/index.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTilePath, type MemoryTree } from '../../src/merkle/index.js';

export const cosignatures = fixture('cosignatures.json');
export const policies = fixture('witness-network-and-policies.json');

/** The real staging checkpoint cosigned by Geomys, Mullvad and TrustFabric (group 3). */
export const staging = cosignatures.groups.find((g: any) => String(g.name).startsWith('REAL staging')) as {
  log_vkey: string;
  witness_vkeys: string[];
  note: string;
  cosignature_timestamps: Record<string, number>;
  derived_negatives: { name: string; note: string }[];
};

/** The real production Armored Witness checkpoints (group 2): 0x01-published witness keys. */
export const armored = cosignatures.groups.find((g: any) => String(g.name).startsWith('REAL production Armored')) as {
  witness_vkeys_as_published_type01: string[];
  witness_cosignature_vkeys_derived_type04: string[];
  vectors: { log_vkey: string; note: string; expect_with_log_and_all_witness_cosig_vkeys: { verified: string[] } }[];
};

export const STAGING_NAMES = ['geomys', 'mullvad', 'trustfabric'];

/** A tlog-policy over the staging log and its three witnesses, with a k-of-3 group. */
export function stagingPolicy(k: number | 'all' | 'any'): string {
  return [
    `log ${staging.log_vkey}`,
    ...staging.witness_vkeys.map((v, i) => `witness ${STAGING_NAMES[i]} ${v}`),
    `group staging ${k} ${STAGING_NAMES.join(' ')}`,
    'quorum staging',
    '',
  ].join('\n');
}

/** A synthetic log and witnesses, for tests that need to sign. */
export class Network {
  readonly log: TestLog;
  readonly witnesses: Ed25519SignerKey[];
  constructor(origin = 'example.com/log', n = 3, leaves = 10) {
    this.log = new TestLog(origin).append(leaves);
    this.witnesses = Array.from({ length: n }, (_, i) => generateKey(`witness${i}.example`));
  }

  /** A tlog-policy: the log, each witness as w<i> (0x01 vkeys), and the given quorum lines. */
  policy(groupLines: string[]): string {
    return [`log ${this.log.key.vkey}`, ...this.witnesses.map((w, i) => `witness w${i} ${w.vkey}`), ...groupLines, ''].join('\n');
  }

  /** The log's checkpoint (at `size`, on `log`) cosigned by the given witnesses at time ts. */
  cosigned(which: number[], ts: bigint = 1_700_000_000n, log: TestLog = this.log, size?: bigint): string {
    return cosign(log.checkpoint(size), which.map((i) => this.witnesses[i]), ts);
  }
}

/** Appends cosignature/v1 lines by the given keys to a signed note. */
export function cosign(note: string, keys: Ed25519SignerKey[], ts: bigint): string {
  const parsed = parseNote(note);
  return note + signatureLines(parsed.textBytes, keys.map((k) => cosigner(k, () => ts)));
}


/**
 * A local HTTP server on 127.0.0.1 standing in for witnesses' monitoring endpoints
 * (/w<i>/<hex sha256(origin)>/checkpoint) and a log's tiles (/log/tile/...).
 */
export class FakeWitnesses {
  /** What witness i answers: a note (200), or a status code. */
  readonly answers = new Map<number, string | number>();
  tiles?: MemoryTree;
  requests = 0;
  private server?: Server;
  base = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.requests++;
      const url = req.url ?? '';
      const tile = /^\/log\/(tile\/.*)$/.exec(url);
      if (tile && this.tiles) {
        const ref = parseTilePath(tile[1]);
        if (!ref || ref.kind !== 'tile') return void res.writeHead(404).end();
        const parts: Uint8Array[] = [];
        for (let i = 0; i < ref.width; i++) parts.push(this.tiles.node(ref.level * 8, ref.index * 256n + BigInt(i)));
        return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.concat(parts));
      }
      const m = /^\/w(\d+)\/([0-9a-f]{64})\/checkpoint$/.exec(url);
      const a = m ? this.answers.get(Number(m[1])) : undefined;
      if (a === undefined) return void res.writeHead(404).end('not found\n');
      if (typeof a === 'number') return void res.writeHead(a).end('error\n');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(a);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  url(i: number): string {
    return `${this.base}/w${i}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

