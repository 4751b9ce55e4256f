// Two `gossip-witness serve` processes with one key on one PostgreSQL database (issue 17), under
// a racing fork load through both: clients holding the log's key build competing branches on the
// size the witness holds and send them to either instance. Checked: no two cosignatures on
// inconsistent trees, no rollback, every 409 names a size some instance stored, exactly one first
// state; then kill -9 of one instance mid-load and its restart lose nothing; then PostgreSQL
// restarted under load: 503s with a reason, no cosignature without committed state, recovery by
// itself. GW_PG_SERVE_SECONDS (default 3) sets each load phase's length (longer: benchmarks).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { consistencyProof, largestPowerOfTwoBelow, rootFromHasher, type SubtreeHasher } from '../../src/merkle/proof.js';
import { hashChildren, hashLeaf, treeHash } from '../../src/merkle/hash.js';
import { formatCheckpoint, originHash, parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { generateKey, openNote, parseCosignatureVkey, parseVkey, signNote, VerifierSet } from '../../src/note/index.js';
import { equalBytes } from '../../src/util/bytes.js';
import { killAllChildren, startServe, type ServeChild } from '../witness/crash-driver.js';
import { PG_REQUIRED, pgUnavailableReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { paceRetry, waitFor } from '../helpers/wait.js';

const why = pgUnavailableReason();
if (why && PG_REQUIRED) throw new Error(`INTEROP_REQUIRED=1 but ${why}`);
if (why) console.log(`SKIPPED two serve instances on PostgreSQL: ${why}`);

const PHASE_MS = Number(process.env.GW_PG_SERVE_SECONDS ?? 3) * 1000;
const CLIENTS_PER_INSTANCE = 4;
const DEADLINE_MS = 30_000;
const ORIGIN = 'pg.example/forking';
const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64');

/** A branch: the trunk's first `base` leaves, then its own. */
interface Candidate {
  base: bigint;
  size: bigint;
  root: Uint8Array;
  leaves: Uint8Array[];
  hasher: SubtreeHasher;
}

function candidate(trunk: MemoryTree, base: bigint, leaves: Uint8Array[]): Candidate {
  const rec: SubtreeHasher = (a, b) => {
    if (b <= base) return trunk.subtreeHash(a, b);
    if (a >= base) return treeHash(leaves.slice(Number(a - base), Number(b - base)));
    const k = largestPowerOfTwoBelow(b - a);
    return hashChildren(rec(a, a + k), rec(a + k, b));
  };
  const size = base + BigInt(leaves.length);
  return { base, size, root: rootFromHasher(size, rec), leaves, hasher: rec };
}

const until = (pred: () => boolean | Promise<boolean>, what: string, ms = DEADLINE_MS) => waitFor(pred, { what, timeoutMs: ms, intervalMs: 25 });

describe.skipIf(!!why)(`two serve instances on one PostgreSQL database${why ? ` (SKIPPED: ${why})` : ''}`, () => {
  let pgs: TestPostgres;
  let dir: string;
  beforeAll(async () => {
    pgs = await startTestPostgres();
    dir = mkdtempSync(join(tmpdir(), 'gw-pg-serve-'));
  }, 90_000);
  afterAll(async () => {
    killAllChildren();
    await pgs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('racing forks through both, kill -9 and restart of one, and a PostgreSQL restart: never two branches, never a rollback, recovery by itself', { timeout: 120_000 + 3 * PHASE_MS }, async () => {
    const url = await pgs.freshDb();
    const logKey = generateKey(ORIGIN);
    const config = (i: number) => {
      const file = join(dir, `w${i}.yaml`);
      writeFileSync(file, `name: pg.example/witness\nkey: witness.key\nstore: { url: "${url}", timeout: 2s, unwritableExitAfter: 0s }\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: "${ORIGIN}", vkeys: [ "${logKey.vkey}" ] }\n`);
      return file;
    };
    const files = [config(0), config(1)];
    // The key is created by the first start; the second instance must use the same one.
    const servers: (ServeChild | undefined)[] = [await startServe('tsx', files[0])];
    servers[1] = await startServe('tsx', files[1]);
    expect(servers[1].vkeys).toEqual(servers[0]!.vkeys);
    const witnessVerifiers = new VerifierSet(servers[0]!.vkeys.map((v) => parseCosignatureVkey(v)));

    // Client-side view: the trunk is the branch the witness holds; candidates race on it.
    const trunk = new MemoryTree();
    let pending: Candidate[] = [];
    const cosigned: { size: bigint; root: Uint8Array }[] = [];
    const conflicts: bigint[] = [];
    const storedSizes = new Set<bigint>([0n]);
    const statuses: Record<string, number> = {};
    const violations: string[] = [];
    const reasons503 = new Set<string>();
    let firstStates = 0;
    let tag = 0;
    let stopping = false;
    let lastSeen = 0n;

    const fetchStored = async (): Promise<{ size: bigint; root: Uint8Array } | undefined> => {
      for (const s of servers) {
        if (!s) continue;
        try {
          const res = await fetch(`${s.url}/${originHash(ORIGIN)}/checkpoint`);
          const text = await res.text();
          if (res.status === 404) return undefined;
          if (res.status !== 200) continue;
          openNote(text, witnessVerifiers);
          const cp = parseCheckpoint(openNote(text, [parseVkey(logKey.vkey)]).text);
          return { size: cp.size, root: cp.root };
        } catch {
          // this instance is down: try the other
        }
      }
      return undefined;
    };
    let resolving: Promise<void> | undefined;
    const resolve = () =>
      (resolving ??= (async () => {
        const s = await fetchStored();
        if (!s) return;
        if (s.size < lastSeen) violations.push(`stored size went back from ${lastSeen} to ${s.size}`);
        lastSeen = s.size > lastSeen ? s.size : lastSeen;
        if (s.size <= trunk.size) {
          if (!equalBytes(trunk.root(s.size), s.root)) violations.push(`stored ${s.size} is off the accepted branch`);
          return;
        }
        const c = pending.find((p) => p.size === s.size && equalBytes(p.root, s.root));
        if (!c || c.base !== trunk.size) {
          violations.push(`stored ${s.size} is no extension of the accepted branch at ${trunk.size}`);
          return;
        }
        for (const l of c.leaves) trunk.appendLeafHash(l);
        storedSizes.add(trunk.size);
        pending = [];
      })().finally(() => (resolving = undefined)));

    // A load client until the phase ends; paceRetry paces its retries (no instance, a lost
    // connection, a 503) and waits for nothing a test asserts.
    const client = async (inst: number, id: number): Promise<void> => {
      while (!stopping) {
        const srv = servers[inst];
        if (!srv) {
          await paceRetry();
          continue;
        }
        const base = trunk.size;
        const c = candidate(trunk, base, Array.from({ length: 1 + (tag % 3) }, () => hashLeaf(utf8(`i${inst} c${id} t${tag++}`))));
        pending.push(c);
        const note = signNote(formatCheckpoint({ origin: ORIGIN, size: c.size, root: c.root }), [logKey]);
        const proof = base > 0n ? consistencyProof(base, c.size, c.hasher) : [];
        const body = `old ${base}\n${proof.map((h) => b64(h) + '\n').join('')}\n${note}`;
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${srv.url}/add-checkpoint`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
          text = await res.text();
        } catch {
          statuses['conn-error'] = (statuses['conn-error'] ?? 0) + 1; // killed mid-request: outcome unknown
          await paceRetry();
          continue;
        }
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 200) {
          try {
            const opened = openNote(note.slice(0, note.indexOf('\n\n') + 1) + '\n' + text, witnessVerifiers);
            if (opened.verified.length !== 1) throw new Error('no verifying line');
          } catch (e) {
            violations.push(`a 200 whose cosignature does not verify: ${(e as Error).message}`);
          }
          cosigned.push({ size: c.size, root: c.root });
          if (base === 0n) firstStates++;
          await resolve();
        } else if (res.status === 409) {
          const n = BigInt(text.trim());
          if (n === base) violations.push(`409 carrying the size the client sent (${n})`);
          conflicts.push(n);
          await resolve();
        } else if (res.status === 503) {
          reasons503.add(text.trim().slice(0, 200));
          await paceRetry();
        } else violations.push(`answered ${res.status}: ${text.trim()}`);
      }
    };

    const runPhase = async (ms: number, during?: () => Promise<void>) => {
      stopping = false;
      const clients = [0, 1].flatMap((inst) => Array.from({ length: CLIENTS_PER_INSTANCE }, (_, id) => client(inst, id)));
      const t0 = Date.now();
      await during?.();
      await until(() => Date.now() - t0 >= ms, 'the phase to end', ms + DEADLINE_MS);
      stopping = true;
      await Promise.all(clients);
      await resolve();
    };

    // Phase 1: racing forks through both instances, from a log neither has seen.
    await runPhase(PHASE_MS);
    expect(firstStates).toBe(1);
    const afterRace = cosigned.length;
    expect(afterRace).toBeGreaterThan(5);
    expect(statuses['409']).toBeGreaterThan(0);

    // Phase 2: kill -9 instance 1 mid-load, restart it.
    await runPhase(PHASE_MS, async () => {
      const n = cosigned.length;
      await until(() => cosigned.length > n + 5, 'load before the kill');
      const victim = servers[1]!;
      servers[1] = undefined;
      victim.child.kill('SIGKILL');
      await victim.exited;
      servers[1] = await startServe('tsx', files[1]);
    });
    const afterKill = cosigned.length;
    expect(afterKill).toBeGreaterThan(afterRace);

    // Phase 3: PostgreSQL restarted under load (only with a server this test started).
    if (pgs.stopServer) {
      await runPhase(PHASE_MS, async () => {
        const n = cosigned.length;
        await until(() => cosigned.length > n + 3, 'load before the database restart');
        await pgs.stopServer!();
        const downAt = cosigned.length;
        await until(() => (statuses['503'] ?? 0) > 0, 'a 503 while the database is down');
        // No cosignature while no commit can happen (in-flight ones before the stop excepted).
        expect(cosigned.length - downAt).toBeLessThanOrEqual(2 * CLIENTS_PER_INSTANCE);
        const ready = await fetch(`${servers[0]!.url}/readyz`);
        expect(ready.status).toBe(503);
        await pgs.startServer!();
        const back = cosigned.length;
        await until(() => cosigned.length > back + 3, 'cosignatures again after the database came back');
      });
      expect([...reasons503].some((r) => /store|PostgreSQL/i.test(r))).toBe(true);
    }

    // Final checks: one chain, nothing lost, every 409 a stored size.
    const final = await fetchStored();
    expect(final).toBeDefined();
    expect(violations).toEqual([]);
    for (const c of cosigned) {
      expect(c.size <= final!.size).toBe(true);
      expect(equalBytes(trunk.root(c.size), c.root)).toBe(true); // one branch: consistent pairs
    }
    for (const n of conflicts) expect(storedSizes.has(n)).toBe(true);
    expect(statuses['500'] ?? 0).toBe(0);
    expect([...reasons503].filter((r) => /went back/.test(r))).toEqual([]); // no false rollback alarm under racing reads
    console.log(`two instances on PostgreSQL: ${cosigned.length} cosigned, final size ${final!.size}, statuses ${JSON.stringify(statuses)}, 503 reasons: ${[...reasons503].slice(0, 2).join(' | ')}`);
    for (const s of servers) s?.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s?.exited));
  });
});
