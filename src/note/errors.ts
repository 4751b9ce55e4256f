// Errors of the note layer, with Go's x/mod note messages (clients and tests match on them).

export type NoteErrorCode = 'malformed' | 'unverified' | 'invalid-signature' | 'ambiguous-key';

export class NoteError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NoteError';
  }
}

export const malformedNote = () => new NoteError('malformed', 'malformed note');

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}
