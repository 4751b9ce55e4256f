// Errors of the note layer, with Go's x/mod note messages (clients and tests match on them).
// Codes and messages: src/errors.ts (docs/errors.md).
import { GossipWitnessError, MESSAGES } from '../errors.js';

export type NoteErrorCode = 'malformed' | 'unverified' | 'invalid-signature' | 'ambiguous-key';

export class NoteError extends GossipWitnessError {
  declare readonly code: NoteErrorCode;
  constructor(code: NoteErrorCode, message: string) {
    super({ code, message });
    this.name = 'NoteError';
  }
}

export const malformedNote = () => new NoteError('malformed', MESSAGES.malformedNote());

/** A key (vkey or skey) that does not parse or does not fit its role: code 'bad-key'. */
export class KeyError extends GossipWitnessError {
  declare readonly code: 'bad-key';
  constructor(message: string) {
    super({ code: 'bad-key', message });
    this.name = 'KeyError';
  }
}
