import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import type { WitnessConfig } from '../config.js';
import { StartupError, UsageError } from './errors.js';

/**
 * What the CLI reads from a file or stdin at most (policies, notes, proofs, evidence, keys): more
 * is refused, so that `/dev/zero` or a wrong file is an error, not a process that eats the memory.
 */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Entries (`--entry`, `log add`): the user's own files, e.g. a release checked against a Sigsum proof: as much as a Buffer holds. */
export const MAX_ENTRY_BYTES = bufferConstants.MAX_LENGTH;

/** Reads a file, or stdin when path is undefined or "-", refusing more than max bytes. Unreadable input is a usage error. */
export function readInput(path: string | undefined, max = MAX_INPUT_BYTES): Buffer {
  const name = path === undefined || path === '-' ? 'stdin' : path;
  let fd: number | undefined;
  try {
    fd = name === 'stdin' ? 0 : openSync(path!, 'r');
    const st = fstatSync(fd);
    if (st.isFile() && st.size > max) throw new UsageError(`cannot read ${name}: larger than ${max} bytes`);
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, Math.min(buf.length, max + 1 - total), null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EOF') break;
        throw e;
      }
      if (n === 0) break;
      total += n;
      if (total > max) throw new UsageError(`cannot read ${name}: larger than ${max} bytes`);
      chunks.push(Buffer.from(buf.subarray(0, n))); // a copy: a pipe gives 64 KiB a read, and a view would pin 1 MiB each
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${name}: ${(e as Error).message}`);
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

/** The witness config file; a bad one is a permanent start-up failure (exit 2). config.ts (valibot, yaml) loads only here. */
export async function readConfig(file: string): Promise<WitnessConfig> {
  const { loadConfigAsync, ConfigError } = await import('../config.js');
  try {
    return await loadConfigAsync(file);
  } catch (e) {
    if (e instanceof ConfigError) throw new StartupError('CONFIG', e.message, e);
    throw e;
  }
}
