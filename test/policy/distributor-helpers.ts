// Test helpers for reading from distributors: a distributor served by the project's own code
// (src/http/distributor.ts on fastify, as a witness node serves it) holding given cosigned
// checkpoints, and a hostile HTTP server that answers anything on any path.
import Fastify, { type FastifyInstance } from 'fastify';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { distributorSource, registerDistributorRoutes, type HeldCheckpoint } from '../../src/http/distributor.js';
import { parseNote } from '../../src/note/index.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';

/** A held checkpoint from a cosigned note whose first line is the log's signature. */
export function held(note: string): HeldCheckpoint {
  const p = parseNote(note);
  return { size: parseCheckpoint(p.text).size, text: p.text, logLines: p.signatures.slice(0, 1), cosignatures: p.signatures.slice(1) };
}

/** The distributor routes of a witness node, on 127.0.0.1 (port 0), serving `notes` for `origin`. */
export class TestDistributor {
  /** The cosigned notes this distributor holds (changeable between requests). */
  notes: string[] = [];
  requests: string[] = [];
  private app?: FastifyInstance;
  base = '';
  constructor(readonly origin: string) {}

  async start(): Promise<this> {
    const app = Fastify({ logger: false });
    app.addHook('onRequest', async (req) => void this.requests.push(req.url));
    registerDistributorRoutes(
      app,
      distributorSource({
        store: { getState: async () => undefined },
        origins: () => [this.origin],
        logKeys: () => undefined,
        witnesses: [],
        more: () => this.notes.map(held),
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    this.app = app;
    this.base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await this.app?.close();
  }
}

/** Any HTTP server on 127.0.0.1 (port 0): the handler decides (or never answers). */
export class HostileServer {
  requests: string[] = [];
  private server?: Server;
  private readonly open = new Set<ServerResponse>();
  base = '';
  constructor(public handler: (req: IncomingMessage, res: ServerResponse) => void) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.requests.push(req.url ?? '');
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
      this.handler(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
