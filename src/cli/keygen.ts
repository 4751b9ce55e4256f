import type { Command } from 'commander';
import { generateKey } from '../note/keys.js';
import { writeKeyFile } from '../keys/keyfile.js';
import { UsageError } from './errors.js';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('generate an Ed25519 key: writes the skey to FILE (mode 0600), prints the vkey and the cosignature/v1 vkey')
    .requiredOption('--name <name>', 'key name, e.g. witness.example.org/w1')
    .requiredOption('--out <file>', 'private key file to create (never overwritten)')
    .action((opts: { name: string; out: string }) => {
      let key;
      try {
        key = generateKey(opts.name);
        writeKeyFile(opts.out, key);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      // Line 1: the Ed25519 (0x01) vkey; line 2: the cosignature/v1 (0x04) vkey.
      process.stdout.write(`${key.vkey}\n${key.cosignatureVkey}\n`);
    });
}
