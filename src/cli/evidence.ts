import type { Command } from 'commander';
import { parseVkey, type Verifier } from '../note/keys.js';
import { verifyEvidence } from '../witness/evidence.js';
import { readInput } from './io.js';
import { BadInputError, RefusedError, UsageError } from './errors.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerEvidence(program: Command): void {
  const evidence = program.command('evidence').description('split-view evidence (gossip-witness/evidence/v1)');
  evidence
    .command('verify')
    .description('exit 0 only if FILE is proven evidence that a log signed two inconsistent trees')
    .requiredOption('--vkey <vkey>', 'a log key you trust for the origin (repeat for several)', collect)
    .argument('[file]', 'evidence file (stdin when absent)')
    .action((file: string | undefined, opts: { vkey: string[] }) => {
      if (!opts.vkey?.length) throw new UsageError('at least one --vkey is required');
      const keys: Verifier[] = opts.vkey.map((v) => {
        try {
          return parseVkey(v);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      });
      const input = new Uint8Array(readInput(file));
      // The keys are trusted for whatever origin the evidence names: the caller chose them.
      const verdict = verifyEvidence(input, () => keys);
      if (!verdict.ok) {
        const msg = `not proven evidence (${verdict.code}): ${verdict.reason}`;
        throw verdict.code === 'malformed' ? new BadInputError(msg) : new RefusedError(msg);
      }
      process.stdout.write(
        `proven split view: origin ${JSON.stringify(verdict.origin)} signed size ${verdict.a.size} and size ${verdict.b.size} trees that are inconsistent\n`,
      );
    });
}
