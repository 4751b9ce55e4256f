// `gossip-witness keygen --type ml-dsa-44`, spawned as a user runs it (node --import tsx
// src/cli/main.ts): the skey file (mode 0600, one line, the transparency-dev/formats layout), the
// printed vkey, the default type (Ed25519) and the refusals.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCosignatureVkey, parseSkey, parseVkey, signNote, openNote } from '../../src/note/index.js';
import { parseMlDsa44Skey } from '../../src/note/mldsa-keys.js';
import { readKeyFile, readMlDsa44KeyFile, KeyFileError } from '../../src/keys/keyfile.js';
import { MLDSA44 } from '../../src/note/sigtypes/mldsa44.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 30_000;

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'keygen-mldsa-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keygen --type ml-dsa-44', () => {
  it('writes a 0600 one-line 0x06 skey and prints its vkey', { timeout: 60_000 }, async () => {
    const out = join(dir, 'pq.key');
    const r = await cli(['keygen', '--type', 'ml-dsa-44', '--name', 'witness.example/pq', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(2); // one line and the final newline
    const vkey = lines[0];
    const v = parseVkey(vkey);
    expect(v).toMatchObject({ name: 'witness.example/pq', type: MLDSA44 });
    expect(v.key.length).toBe(1312);
    // A witness vkey for policies and configs as is.
    expect(parseCosignatureVkey(vkey).vkey).toBe(vkey);

    expect(statSync(out).mode & 0o777).toBe(0o600);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^PRIVATE\+KEY\+witness\.example\/pq\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*\n$/);
    const material = Buffer.from(text.trim().split('+').slice(4).join('+'), 'base64');
    expect(material.length).toBe(33);
    expect(material[0]).toBe(0x06);
    const key = parseMlDsa44Skey(text.trim());
    expect(key.vkey).toBe(vkey);
    expect(readMlDsa44KeyFile(out).vkey).toBe(vkey);
    // The Ed25519 reader keeps refusing it (its checks are unchanged).
    expect(() => readKeyFile(out)).toThrow(/only Ed25519/);
    // The key signs checkpoints that its vkey verifies.
    const note = signNote('example.com/log\n1\nKgAIa4ODX3LGDKdFubRL9/mVNwpGIIT8Ld6Y0hI05lU=\n', [key.cosigner(() => 1_700_000_000n)]);
    expect(openNote(note, [v]).verified).toHaveLength(1);

    // Never overwritten.
    const again = await cli(['keygen', '--type', 'ml-dsa-44', '--name', 'witness.example/pq', '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(readFileSync(out, 'utf8')).toBe(text);
  });

  it('the default type stays Ed25519 (two vkey lines); --type ed25519 is the same', { timeout: 60_000 }, async () => {
    for (const args of [[], ['--type', 'ed25519']]) {
      const out = join(dir, `ed${args.length}.key`);
      const r = await cli(['keygen', ...args, '--name', 'witness.example/ed', '--out', out]);
      expect(r.status, r.stderr).toBe(0);
      const [vkey, cosig, end] = r.stdout.split('\n');
      expect(end).toBe('');
      expect(parseVkey(vkey).type).toBe(0x01);
      expect(parseVkey(cosig).type).toBe(0x04);
      expect(parseSkey(readFileSync(out, 'utf8').trim()).vkey).toBe(vkey);
      expect(() => readMlDsa44KeyFile(out)).toThrow(KeyFileError);
    }
  });

  it('refuses an unknown type, a bad name and a group-readable ML-DSA key file', { timeout: 60_000 }, async () => {
    const bad = await cli(['keygen', '--type', 'ml-dsa-65', '--name', 'x', '--out', join(dir, 'x.key')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--type must be ed25519 or ml-dsa-44/);
    expect(bad.stdout).toBe('');
    const name = await cli(['keygen', '--type', 'ml-dsa-44', '--name', 'a b', '--out', join(dir, 'y.key')]);
    expect(name.status).toBe(2);
    expect(name.stdout).toBe('');
    const open = join(dir, 'open.key');
    writeFileSync(open, readFileSync(join(dir, 'pq.key')), { mode: 0o644 });
    expect(() => readMlDsa44KeyFile(open)).toThrow(/readable by group or others/);
  });
});
