import type { Command } from 'commander';
import { generateKey } from '../note/keys.js';
import { generateMlDsa44Key } from '../note/mldsa-keys.js';
import { writeKeyFile } from '../keys/keyfile.js';
import { UsageError } from './errors.js';

/** Key types keygen writes; the first is the default. */
export const KEYGEN_TYPES = ['ed25519', 'ml-dsa-44'] as const;
export type KeygenType = (typeof KEYGEN_TYPES)[number];

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description(
      'generate a key: writes the skey to FILE (mode 0600). Ed25519 (default) prints the vkey and the cosignature/v1 vkey; ML-DSA-44 prints its vkey (signature type 0x06)',
    )
    .requiredOption('--name <name>', 'key name, e.g. witness.example.org/w1')
    .requiredOption('--out <file>', 'private key file to create (never overwritten)')
    .option('--type <type>', `key type: ${KEYGEN_TYPES.join(' or ')}`, 'ed25519')
    .action((opts: { name: string; out: string; type: string }) => {
      // Every reader of this CLI takes "-" as stdin; a private key is never written to stdout.
      if (opts.out === '-') throw new UsageError('--out - is not supported: keygen writes the private key to a file (mode 0600), never to stdout');
      if (!(KEYGEN_TYPES as readonly string[]).includes(opts.type)) {
        throw new UsageError(`--type must be ${KEYGEN_TYPES.join(' or ')}, got ${JSON.stringify(opts.type)}`);
      }
      if (opts.type === 'ml-dsa-44') {
        let key;
        try {
          key = generateMlDsa44Key(opts.name);
          writeKeyFile(opts.out, key);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        // One line: the ML-DSA-44 (0x06) vkey, for witness configs and policies alike (the same
        // key verifies subtree/v1 cosignatures and, for a log, its checkpoint signatures).
        process.stdout.write(`${key.vkey}\n`);
        return;
      }
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
