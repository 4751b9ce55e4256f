// `gossip-witness fetch --policy FILE [--origin ORIGIN]`: ask every witness of the policy that
// has a URL for its latest cosigned checkpoint of ORIGIN (GET <url>/<hex SHA-256(origin)>/checkpoint),
// merge the cosignatures on identical checkpoints and print the best one that satisfies the
// policy (stdout; a report on stderr). Exit 0 with a checkpoint; 1 when none satisfies the policy
// or the sources disagree (proven split-view evidence is printed on stdout, one JSON per line);
// 2 on unusable input; 3 when no witness or distributor could be reached at all (src/cli/errors.ts).
//
// With `--distributor URL` (repeatable) the checkpoint is read from distributors instead, as
// transparency-dev tools do: GET <URL>/distributor/v0/logs/<hex SHA-256("o:" + origin)>/checkpoint,
// or checkpoint.<N> with `--min-cosignatures N` (the newest checkpoint with at least N
// cosignatures). Every gossip-witness node serves these reads. The policy's witnesses are then not
// asked: a distributor is where clients read, and witnesses need not serve clients (the library
// can ask both: gatherCosignatures' askWitnesses). A distributor is untrusted: its answers are
// verified against the policy and merged on the same path as witness answers, and with
// --min-cosignatures the printed checkpoint carries at least N cosignatures that verify, from
// distinct policy witnesses.
import type { Command } from 'commander';
import { gatherCosignatures, tilesConsistencySource, type GatherResult } from '../policy/fetch.js';
import { encodeEvidence } from '../witness/evidence.js';
import { NetworkError, RefusedError, UsageError } from './errors.js';
import { loadPolicy, policyOptions, registerVerify, verifyOptions, type PolicyFlags } from './verify.js';

const collect = (v: string, prev: string[]) => [...prev, v];

function report(r: GatherResult): string {
  const out: string[] = [];
  for (const resp of r.responses) out.push(`fetch: ${resp.witness}: ${resp.status}${resp.detail ? ` (${resp.detail})` : ''}`);
  for (const resp of r.distributorResponses) out.push(`fetch: distributor ${resp.distributor}: ${resp.status}${resp.detail ? ` (${resp.detail})` : ''}`);
  for (const c of r.candidates) {
    out.push(
      `fetch: size ${c.checkpoint.size} served by ${c.servedBy.join(', ')}: ${c.verification.ok ? 'satisfies the policy' : `does not satisfy the policy (${c.verification.code})`}; cosigned by ${c.verification.cosigners.join(', ') || 'nobody'}`,
    );
  }
  for (const u of r.unchecked) out.push(`fetch: sizes ${u.sizes[0]} and ${u.sizes[1]} not checked for consistency: ${u.reason}`);
  return out.join('\n') + (out.length ? '\n' : '');
}

/** A distributor base URL: http(s), no query or fragment. */
function distributorUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--distributor ${JSON.stringify(v)} is not a URL (expected e.g. https://witness.example)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--distributor ${JSON.stringify(v)}: only http and https URLs`);
  if (u.search || u.hash) throw new UsageError(`--distributor ${JSON.stringify(v)}: a base URL has no query or fragment`);
  return v;
}

export function registerFetch(program: Command): void {
  policyOptions(program.command('fetch'))
    .description(
      "gather cosignatures for a log from the policy's witnesses (or, with --distributor, from distributors instead) and print the best cosigned checkpoint, or their disagreement",
    )
    .option('--origin <origin>', 'the log origin (default: the only origin of the policy)')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '10000')
    .option('--tiles [url]', "check consistency between different sizes with the log's tlog-tiles hashes (default URL: the policy's log URL)")
    .option(
      '--distributor <url>',
      "read from this distributor (transparency-dev/distributor's REST API, served by every gossip-witness node) instead of the policy's witnesses (repeatable; answers are verified against the policy)",
      collect,
      [],
    )
    .option('--min-cosignatures <n>', 'with --distributor: the newest checkpoint with at least N cosignatures (checkpoint.N; 1..100, as transparency-dev/distributor serves), and accept it only with N cosignatures that verify')
    .action(async (flags: PolicyFlags & { origin?: string; timeout: string; tiles?: string | boolean; distributor: string[]; minCosignatures?: string }) => {
      const policy = loadPolicy(flags);
      const opts = verifyOptions(flags);
      let origin = flags.origin;
      if (origin === undefined) {
        const origins = policy.origins();
        if (origins.length !== 1) throw new UsageError(`--origin is required: the policy has ${origins.length} origins (${origins.map((o) => JSON.stringify(o)).join(', ')})`);
        origin = origins[0];
      }
      if (!/^[0-9]{1,7}$/.test(flags.timeout)) throw new UsageError('--timeout must be a whole number of milliseconds');
      const distributors = flags.distributor.map(distributorUrl);
      let minCosignatures: number | undefined;
      if (flags.minCosignatures !== undefined) {
        if (distributors.length === 0) throw new UsageError('--min-cosignatures needs --distributor (it asks a distributor for checkpoint.N)');
        if (!/^[0-9]{1,3}$/.test(flags.minCosignatures) || Number(flags.minCosignatures) < 1 || Number(flags.minCosignatures) > 100) {
          throw new UsageError(`--min-cosignatures must be a whole number from 1 to 100, not ${JSON.stringify(flags.minCosignatures)}`);
        }
        minCosignatures = Number(flags.minCosignatures);
        if (minCosignatures > policy.witnesses.length) {
          throw new UsageError(`--min-cosignatures ${minCosignatures}: the policy has only ${policy.witnesses.length} witness${policy.witnesses.length === 1 ? '' : 'es'}, so no checkpoint can carry that many verified cosignatures`);
        }
      }
      let consistency;
      if (flags.tiles !== undefined && flags.tiles !== false) {
        const url = typeof flags.tiles === 'string' ? flags.tiles : policy.logsForOrigin(origin).find((l) => l.url)?.url;
        if (!url) throw new UsageError(`--tiles: the policy gives no URL for the log of ${JSON.stringify(origin)}; pass --tiles URL`);
        consistency = tilesConsistencySource(url, { timeoutMs: Number(flags.timeout) });
      }
      if (distributors.length === 0 && policy.witnesses.every((w) => !w.url)) throw new UsageError('no witness in the policy has a URL to fetch from (or pass --distributor URL)');
      const r = await gatherCosignatures(policy, origin, {
        timeoutMs: Number(flags.timeout),
        verify: opts,
        ...(consistency ? { consistency } : {}),
        ...(distributors.length > 0 ? { distributors } : {}),
        ...(minCosignatures !== undefined ? { minCosignatures } : {}),
      });
      process.stderr.write(report(r));
      if (r.disagreements.length > 0) {
        for (const d of r.disagreements) if (d.evidence && d.kind === 'split-view') process.stdout.write(new TextDecoder().decode(encodeEvidence(d.evidence)) + '\n');
        throw new RefusedError(r.reason);
      }
      const asked = [...r.responses.filter((x) => x.status !== 'no-url'), ...r.distributorResponses];
      if (!r.best && asked.length > 0 && asked.every((x) => x.status === 'network-error')) {
        // Nothing was checked, so nothing was refused: a network failure has its own exit code.
        const names = [...r.responses.filter((x) => x.status !== 'no-url').map((x) => ({ who: x.witness, detail: x.detail })), ...r.distributorResponses.map((x) => ({ who: `distributor ${x.distributor}`, detail: x.detail }))];
        throw new NetworkError(`no ${distributors.length > 0 ? 'distributor' : 'witness'} could be reached (${names.map((x) => `${x.who}: ${x.detail || 'network error'}`).join('; ')})`);
      }
      if (!r.best) throw new RefusedError(r.reason);
      process.stdout.write(r.best.note);
      process.stderr.write(`fetch: OK: ${r.reason}\n`);
    });
}

/** Registers `verify` and `fetch` (the client commands). */
export function registerClient(program: Command): void {
  registerVerify(program);
  registerFetch(program);
}
