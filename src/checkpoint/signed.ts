// A log-signed checkpoint: the note is opened with the log's verifiers FIRST, and only the
// verified text is parsed as a checkpoint (tlog-checkpoint: parse after a trusted signature verified).
import { formatSignatureLine, openNote, type OpenedNote, type SignatureLine, VerifierSet } from '../note/note.js';
import { schemeFor } from '../note/sigtypes/registry.js';
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

/**
 * Whether the checkpoint's extension lines are the log's: there are none, or a verified log
 * signature covers the whole text. Ed25519 (0x01) and ECDSA (0x02) note signatures do; ML-DSA-44
 * subtree/v1 (0x06) and RFC 6962 (0x05) sign only origin, size and root ("the ML-DSA-44
 * cosignature format doesn't sign the extension lines", c2sp.org/tlog-checkpoint), so anyone can
 * rewrite them under such a signature.
 */
export function extensionsAuthenticated(checkpoint: Pick<Checkpoint, 'extensions'>, verifiedLogLines: readonly Pick<SignatureLine, 'name' | 'keyId'>[], logKeys: VerifierSet): boolean {
  if (checkpoint.extensions.length === 0) return true;
  return verifiedLogLines.some((l) => {
    const v = logKeys.lookup(l.name, l.keyId);
    return v !== undefined && schemeFor(v.type)?.coversText === true;
  });
}

/**
 * The largest log-signed checkpoint (its text, a blank line and the log's verified signature
 * lines) a witness here cosigns: what gossip carries in one message (MAX_CHECKPOINT_MESSAGE) and
 * split-view evidence holds twice (MAX_EVIDENCE_BYTES). A log could otherwise pad both sides of a
 * fork past those limits and keep its split view from ever being compared or proven.
 */
export const MAX_LOG_SIGNED_NOTE = 16 * 1024;

/** Bytes of the log-signed note: the text, a blank line, then each verified log line. */
export function logSignedNoteBytes(textBytes: Uint8Array, verifiedLogLines: readonly SignatureLine[]): number {
  let n = textBytes.length + 1;
  for (const l of verifiedLogLines) n += encoder.encode(formatSignatureLine(l.name, l.keyId, l.sig)).length;
  return n;
}

const encoder = new TextEncoder();
