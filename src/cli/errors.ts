// Exit codes shared by every command: 0 success, 1 the input was checked and refused,
// 2 the invocation itself is unusable (bad flags, unreadable file).
export class UsageError extends Error {
  readonly exitCode = 2;
}

export class RefusedError extends Error {
  readonly exitCode = 1;
}
