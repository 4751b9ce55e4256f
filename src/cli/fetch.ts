// `gossip-witness fetch --policy FILE [--origin ORIGIN]`: ask every witness of the policy that
// has a URL for its latest cosigned checkpoint of ORIGIN (GET <url>/<hex SHA-256(origin)>/checkpoint),
// merge the cosignatures on identical checkpoints and print the best one that satisfies the
// policy (stdout; a report on stderr). Exit 0 with a checkpoint; 1 when none satisfies the policy
// or the witnesses disagree (proven split-view evidence is printed on stdout, one JSON per line);
// 2 on unusable input; 3 when no witness could be reached at all (src/cli/errors.ts).
import type { Command } from 'commander';
import { gatherCosignatures, tilesConsistencySource, type GatherResult } from '../policy/fetch.js';
import { encodeEvidence } from '../witness/evidence.js';
import { NetworkError, RefusedError, UsageError } from './errors.js';
import { loadPolicy, policyOptions, registerVerify, verifyOptions, type PolicyFlags } from './verify.js';

function report(r: GatherResult): string {
  const out: string[] = [];
  for (const resp of r.responses) out.push(`fetch: ${resp.witness}: ${resp.status}${resp.detail ? ` (${resp.detail})` : ''}`);
  for (const c of r.candidates) {
    out.push(
      `fetch: size ${c.checkpoint.size} served by ${c.servedBy.join(', ')}: ${c.verification.ok ? 'satisfies the policy' : `does not satisfy the policy (${c.verification.code})`}; cosigned by ${c.verification.cosigners.join(', ') || 'nobody'}`,
    );
  }
  for (const u of r.unchecked) out.push(`fetch: sizes ${u.sizes[0]} and ${u.sizes[1]} not checked for consistency: ${u.reason}`);
  return out.join('\n') + (out.length ? '\n' : '');
}

export function registerFetch(program: Command): void {
  policyOptions(program.command('fetch'))
    .description("gather cosignatures for a log from the policy's witnesses and print the best cosigned checkpoint, or their disagreement")
    .option('--origin <origin>', 'the log origin (default: the only origin of the policy)')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '10000')
    .option('--tiles [url]', "check consistency between different sizes with the log's tlog-tiles hashes (default URL: the policy's log URL)")
    .action(async (flags: PolicyFlags & { origin?: string; timeout: string; tiles?: string | boolean }) => {
      const policy = loadPolicy(flags);
      const opts = verifyOptions(flags);
      let origin = flags.origin;
      if (origin === undefined) {
        const origins = policy.origins();
        if (origins.length !== 1) throw new UsageError(`--origin is required: the policy has ${origins.length} origins (${origins.map((o) => JSON.stringify(o)).join(', ')})`);
        origin = origins[0];
      }
      if (!/^[0-9]{1,7}$/.test(flags.timeout)) throw new UsageError('--timeout must be a whole number of milliseconds');
      let consistency;
      if (flags.tiles !== undefined && flags.tiles !== false) {
        const url = typeof flags.tiles === 'string' ? flags.tiles : policy.logsForOrigin(origin).find((l) => l.url)?.url;
        if (!url) throw new UsageError(`--tiles: the policy gives no URL for the log of ${JSON.stringify(origin)}; pass --tiles URL`);
        consistency = tilesConsistencySource(url, { timeoutMs: Number(flags.timeout) });
      }
      if (policy.witnesses.every((w) => !w.url)) throw new UsageError('no witness in the policy has a URL to fetch from');
      const r = await gatherCosignatures(policy, origin, { timeoutMs: Number(flags.timeout), verify: opts, ...(consistency ? { consistency } : {}) });
      process.stderr.write(report(r));
      if (r.disagreements.length > 0) {
        for (const d of r.disagreements) if (d.evidence && d.kind === 'split-view') process.stdout.write(new TextDecoder().decode(encodeEvidence(d.evidence)) + '\n');
        throw new RefusedError(r.reason);
      }
      const asked = r.responses.filter((x) => x.status !== 'no-url');
      if (!r.best && asked.length > 0 && asked.every((x) => x.status === 'network-error')) {
        // Nothing was checked, so nothing was refused: a network failure has its own exit code.
        throw new NetworkError(`no witness could be reached (${asked.map((x) => `${x.witness}: ${x.detail ?? 'network error'}`).join('; ')})`);
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
