import { readFileSync } from 'node:fs';
import type { WitnessConfig } from '../config.js';
import { StartupError, UsageError } from './errors.js';

/** Reads a file, or stdin when path is undefined or "-". Unreadable input is a usage error. */
export function readInput(path: string | undefined): Buffer {
  try {
    return readFileSync(path === undefined || path === '-' ? 0 : path);
  } catch (e) {
    throw new UsageError(`cannot read ${path ?? 'stdin'}: ${(e as Error).message}`);
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
