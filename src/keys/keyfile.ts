// Private key files: one skey line, mode 0600. Refused when not a regular file, group- or
// world-readable, or larger than a key file can be (readPrivateFile, also used for the p2p key).
import { openSync, writeSync, closeSync, readSync, fstatSync, existsSync, statSync, constants } from 'node:fs';
import { parseSkey, generateKey, type Ed25519SignerKey } from '../note/keys.js';
import { generateMlDsa44Key, parseMlDsa44Skey, type MlDsa44Key } from '../note/mldsa-keys.js';
import { MLDSA44 } from '../note/sigtypes/mldsa44.js';
import { GossipWitnessError } from '../errors.js';

export class KeyFileError extends GossipWitnessError {
  constructor(message: string) {
    super({ code: 'CONFIG', message });
    this.name = 'KeyFileError';
  }
}

/** Writes a new key file (fails if it exists): the skey line of an Ed25519 or ML-DSA-44 key, mode 0600. */
export function writeKeyFile(path: string, key: Pick<Ed25519SignerKey | MlDsa44Key, 'skey'>): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    let what = 'already exists (refusing to overwrite a key)';
    try {
      if (err.code === 'EEXIST' && statSync(path).isDirectory()) what = 'is a directory (give a file name in it)';
    } catch {
      // a dangling symlink: "already exists" stands
    }
    throw new KeyFileError(err.code === 'EEXIST' ? `${path} ${what}` : `cannot create ${path}: ${err.message}`);
  }
  try {
    writeSync(fd, key.skey + '\n');
  } finally {
    closeSync(fd);
  }
}

/** More than any one-line key file needs (an skey is under 200 bytes, a libp2p key under 3 KiB). */
export const MAX_KEY_FILE_BYTES = 16 * 1024;

/**
 * Reads a private key file's text: the type is checked first (a device, FIFO or directory is not
 * a key file), then the mode (no group or other access), then the size, before anything is read.
 * `what` names the file in errors ("key file", "p2p identity key").
 */
export function readPrivateFile(path: string, what = 'key file'): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new KeyFileError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyFileError(`${what} ${path} is not a regular file`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new KeyFileError(`${what} ${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    if (st.size > MAX_KEY_FILE_BYTES) throw new KeyFileError(`${what} ${path} is ${st.size} bytes: not a key file (at most ${MAX_KEY_FILE_BYTES})`);
    const buf = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_KEY_FILE_BYTES) throw new KeyFileError(`${what} ${path} grew past ${MAX_KEY_FILE_BYTES} bytes while being read`);
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw new KeyFileError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export function readKeyFile(path: string): Ed25519SignerKey {
  const text = readPrivateFile(path).trim();
  try {
    return parseSkey(text);
  } catch (e) {
    throw new KeyFileError(`key file ${path}: ${(e as Error).message}`);
  }
}

/**
 * Reads an ML-DSA-44 (0x06) key file: the same file checks as readKeyFile (readPrivateFile), then
 * the transparency-dev/formats skey (PRIVATE+KEY+name+keyid+base64(0x06 || 32-byte seed)).
 */
export function readMlDsa44KeyFile(path: string): MlDsa44Key {
  const text = readPrivateFile(path).trim();
  try {
    return parseMlDsa44Skey(text);
  } catch (e) {
    throw new KeyFileError(`key file ${path}: ${(e as Error).message}`);
  }
}

/**
 * loadOrCreateKeyFile for ML-DSA-44 (0x06) keys: reads the key file (refusing any other key type),
 * creating it with a fresh key named `name` when missing.
 */
export function loadOrCreateMlDsa44KeyFile(path: string, name: string): { key: MlDsa44Key; created: boolean } {
  if (!existsSync(path)) {
    const key = generateMlDsa44Key(name);
    writeKeyFile(path, key);
    return { key, created: true };
  }
  const key = readMlDsa44KeyFile(path);
  if (key.name !== name) throw new KeyFileError(`key file ${path} holds a key named ${key.name}, but the configured name is ${name}`);
  return { key, created: false };
}

/** A witness key: Ed25519 (cosignature/v1 lines) or ML-DSA-44 (subtree/v1 lines). */
export type WitnessKey = Ed25519SignerKey | MlDsa44Key;

/** The type byte of an skey's key material, or undefined when the text is not PRIVATE+KEY+name+id+base64. */
function skeyType(text: string): number | undefined {
  const m = /^PRIVATE\+KEY\+[^+]*\+[^+]*\+([A-Za-z0-9+/]{4})/.exec(text);
  return m ? Buffer.from(m[1], 'base64')[0] : undefined;
}

/**
 * Reads a witness key file of either type, told apart by content (the skey's type byte): an
 * ML-DSA-44 (0x06) skey, else an Ed25519 one (whose errors are reported as before).
 */
export function readWitnessKeyFile(path: string): WitnessKey {
  const text = readPrivateFile(path).trim();
  try {
    return skeyType(text) === MLDSA44 ? parseMlDsa44Skey(text) : parseSkey(text);
  } catch (e) {
    throw new KeyFileError(`key file ${path}: ${(e as Error).message}`);
  }
}

/** The vkey a witness key publishes: cosignature/v1 (0x04) for Ed25519, the 0x06 vkey for ML-DSA-44. */
export function witnessVkey(key: WitnessKey): string {
  return 'cosignatureVkey' in key ? key.cosignatureVkey : key.vkey;
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
