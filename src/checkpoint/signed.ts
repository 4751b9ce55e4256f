// A log-signed checkpoint: the note is opened with the log's verifiers FIRST, and only the
// verified text is parsed as a checkpoint (tlog-checkpoint: parse after a trusted signature verified).
import { openNote, type OpenedNote, VerifierSet } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { parseCheckpoint, type Checkpoint } from './checkpoint.js';

export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: OpenedNote;
  /** The whole signed note as given. */
  readonly noteText: string;
}

export function openCheckpoint(note: string | Uint8Array, logVerifiers: VerifierSet | Iterable<Verifier>): SignedCheckpoint {
  const opened = openNote(note, logVerifiers);
  const checkpoint = parseCheckpoint(opened.text);
  return { checkpoint, note: opened, noteText: typeof note === 'string' ? note : new TextDecoder('utf-8', { ignoreBOM: true }).decode(note) };
}
