// Private key files (the witness key and the p2p identity key): the type is checked before the
// mode, the mode before the size, and nothing is read from a file that fails a check.
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_KEY_FILE_BYTES, readKeyFile, readPrivateFile, writeKeyFile } from '../../src/keys/keyfile.js';
import { loadOrCreatePeerKey } from '../../src/gossip/host.js';
import { generateKey } from '../../src/note/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'gossip-witness-keyfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const posix = process.platform !== 'win32';

describe('readPrivateFile', () => {
  it('reads an honest 0600 key file, also through a symlink', () => {
    const file = join(dir, 'ok.key');
    const key = generateKey('witness.example/ok');
    writeKeyFile(file, key);
    expect(readKeyFile(file).skey).toBe(key.skey);
    const link = join(dir, 'ok-link.key');
    symlinkSync(file, link);
    expect(readKeyFile(link).vkey).toBe(key.vkey);
  });

  it.runIf(posix)('says a device is not a regular file (not "chmod 600 it"), and reads nothing from it', () => {
    expect(() => readKeyFile('/dev/zero')).toThrow(/key file \/dev\/zero is not a regular file/);
    expect(() => readPrivateFile('/dev/zero', 'p2p identity key')).toThrow(/^p2p identity key \/dev\/zero is not a regular file$/);
  });

  it.runIf(posix)('refuses a directory and a FIFO without blocking on it', () => {
    const d = join(dir, 'a-dir');
    mkdirSync(d, { mode: 0o700 });
    expect(() => readKeyFile(d)).toThrow(/not a regular file/);
    const fifo = join(dir, 'fifo.key');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(() => readKeyFile(fifo)).toThrow(/not a regular file/);
  });

  it.runIf(posix)('refuses group- or world-accessible modes', () => {
    for (const mode of [0o666, 0o644, 0o640, 0o604]) {
      const file = join(dir, `m${mode.toString(8)}.key`);
      writeKeyFile(file, generateKey('witness.example/m'));
      chmodSync(file, mode);
      expect(() => readKeyFile(file)).toThrow(`(mode ${mode.toString(8)}); chmod 600 it`);
    }
  });

  it('refuses an oversized file before reading it', () => {
    const file = join(dir, 'big.key');
    writeFileSync(file, Buffer.alloc(MAX_KEY_FILE_BYTES + 1, 0x41), { mode: 0o600 });
    expect(() => readKeyFile(file)).toThrow(/bytes: not a key file/);
  });

  it('names a missing file', () => {
    expect(() => readKeyFile(join(dir, 'missing.key'))).toThrow(/cannot read key file .*missing\.key/);
  });
});

describe('the p2p identity key gets the same checks', () => {
  it('is created 0600 and read back; a 0666 copy is refused', async () => {
    const file = join(dir, 'p2p', 'identity.key');
    mkdirSync(join(dir, 'p2p'));
    const a = await loadOrCreatePeerKey(file);
    expect(a.created).toBe(true);
    const b = await loadOrCreatePeerKey(file);
    expect(b.created).toBe(false);
    expect(b.key.equals(a.key)).toBe(true);
    if (posix) {
      chmodSync(file, 0o666);
      await expect(loadOrCreatePeerKey(file)).rejects.toThrow(/p2p identity key .* is readable by group or others \(mode 666\); chmod 600 it/);
    }
  });
});
