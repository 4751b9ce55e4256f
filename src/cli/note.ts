import type { Command } from 'commander';
import { parseVkey, type Verifier } from '../note/keys.js';
import { openNote, parseNote, signNote, type SignatureLine } from '../note/note.js';
import { NoteError } from '../note/errors.js';
import { readKeyFile } from '../keys/keyfile.js';
import { readInput } from './io.js';
import { BadInputError, RefusedError, UsageError } from './errors.js';
import { decodeUtf8 } from '../util/bytes.js';
import { formatKeyId } from '../note/keys.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerNote(program: Command): void {
  const note = program.command('note').description('sign and verify signed notes (c2sp.org/signed-note)');

  note
    .command('verify')
    .description('verify a signed note; prints "verified NAME KEYID" per verified signature')
    .requiredOption('--vkey <vkey>', 'a trusted verifier key (repeat for several)', collect)
    .argument('[note]', 'note file (stdin when absent)')
    .action((file: string | undefined, opts: { vkey: string[] }) => {
      if (!opts.vkey?.length) throw new UsageError('at least one --vkey is required');
      const verifiers: Verifier[] = opts.vkey.map((v) => {
        try {
          return parseVkey(v);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      });
      const input = readInput(file);
      try {
        const opened = openNote(new Uint8Array(input), verifiers);
        for (const s of opened.verified) process.stdout.write(`verified ${s.name} ${formatKeyId(s.keyId)}\n`);
      } catch (e) {
        if (e instanceof NoteError) throw e.code === 'malformed' ? new BadInputError(e.message) : new RefusedError(e.message);
        throw e;
      }
    });

  note
    .command('sign')
    .description('sign note text (or add a signature to a signed note) with an Ed25519 key file')
    .requiredOption('--key <file>', 'private key file (skey)')
    .argument('[note]', 'note text or signed note (stdin when absent)')
    .action((file: string | undefined, opts: { key: string }) => {
      let key;
      try {
        key = readKeyFile(opts.key);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const input = new Uint8Array(readInput(file));
      // An input that parses as a signed note keeps its signatures; anything else is the text.
      let text: string | null;
      let existing: SignatureLine[] = [];
      try {
        const parsed = parseNote(input);
        text = parsed.text;
        existing = parsed.signatures;
      } catch {
        text = decodeUtf8(input);
      }
      if (text === null) throw new BadInputError('malformed note: input is not valid UTF-8');
      try {
        process.stdout.write(signNote(text, [key], existing));
      } catch (e) {
        throw new BadInputError(e instanceof NoteError ? `${e.message}: text must be UTF-8 without control characters and end with a newline` : (e as Error).message);
      }
    });
}
