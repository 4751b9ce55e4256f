import type { Command } from 'commander';

export function registerProof(program: Command): void {
  // Filled in by the merkle work: `proof verify-consistency`, `proof verify-inclusion`.
  program.command('proof').description('verify Merkle proofs');
}
