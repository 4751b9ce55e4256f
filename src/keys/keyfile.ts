// Private key files: one skey line, mode 0600. Refused when group- or world-readable.
import { openSync, writeSync, closeSync, readFileSync, statSync, existsSync } from 'node:fs';
import { parseSkey, generateKey, type Ed25519SignerKey } from '../note/keys.js';

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/** Writes a new key file (fails if it exists). */
export function writeKeyFile(path: string, key: Ed25519SignerKey): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KeyFileError(err.code === 'EEXIST' ? `${path} already exists (refusing to overwrite a key)` : `cannot create ${path}: ${err.message}`);
  }
  try {
    writeSync(fd, key.skey + '\n');
  } finally {
    closeSync(fd);
  }
}

export function readKeyFile(path: string): Ed25519SignerKey {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new KeyFileError(`cannot read key file ${path}: ${(e as Error).message}`);
  }
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new KeyFileError(`key file ${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const text = readFileSync(path, 'utf8').trim();
  try {
    return parseSkey(text);
  } catch (e) {
    throw new KeyFileError(`key file ${path}: ${(e as Error).message}`);
  }
}

/** Reads the key file, creating it with a fresh key named `name` when missing. */
export function loadOrCreateKeyFile(path: string, name: string): { key: Ed25519SignerKey; created: boolean } {
  if (!existsSync(path)) {
    const key = generateKey(name);
    writeKeyFile(path, key);
    return { key, created: true };
  }
  const key = readKeyFile(path);
  if (key.name !== name) throw new KeyFileError(`key file ${path} holds a key named ${key.name}, but the configured name is ${name}`);
  return { key, created: false };
}
