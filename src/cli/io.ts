import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/** Reads a file, or stdin when path is undefined or "-". Unreadable input is a usage error. */
export function readInput(path: string | undefined): Buffer {
  try {
    return readFileSync(path === undefined || path === '-' ? 0 : path);
  } catch (e) {
    throw new UsageError(`cannot read ${path ?? 'stdin'}: ${(e as Error).message}`);
  }
}
