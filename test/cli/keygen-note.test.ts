// The CLI as a user runs it: `gossip-witness keygen` and `gossip-witness note sign|verify`, each
// spawned as a child process (node --import tsx src/cli/main.ts), with real fixture vectors.
// Exit codes: 0 success, 1 the input was checked and refused, 2 the invocation is unusable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from '../helpers/fixtures.js';
import { parseCosignatureVkey, parseSkey, parseVkey } from '../../src/note/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Per spawned process; a test spawns a few in turn, so it gets TEST_TIMEOUT_MS. */
const TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;

interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with args; stdin gets `input` (or is closed empty). Killed after TIMEOUT_MS. */
function cli(args: string[], input: string | Buffer = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      timeout: TIMEOUT_MS,
      killSignal: 'SIGKILL',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (status, signal) =>
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => {}); // the CLI may exit before reading stdin
    child.stdin.end(input);
  });
}

/** Exit 1 (or `status`: 2 for input that does not parse) with exactly one line on stderr and nothing on stdout. */
function expectRefused(r: Result, message: string | RegExp, status = 1): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(status);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n'), JSON.stringify(r.stderr)).toBe(true);
  expect(r.stderr.slice(0, -1).split('\n'), JSON.stringify(r.stderr)).toHaveLength(1);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
}

function expectUsage(r: Result): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, `stdout=${JSON.stringify(r.stdout)} stderr=${JSON.stringify(r.stderr)}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toBe('');
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

function expectVerified(r: Result, lines: string[]): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe(lines.map((l) => l + '\n').join(''));
  for (const l of lines) expect(l).toMatch(/^verified \S+ [0-9a-f]{8}$/);
}

const xmod = fixture('signed-note-golang-x-mod.json');
const PETER = xmod.keys.find((k: any) => k.name === 'PeterNeumann');
const ENOCH = xmod.keys.find((k: any) => k.name === 'EnochRoot');
const SIGN_PETER = xmod.sign_vectors[0]; // Go note.Sign(text, PeterNeumann)
const SIGN_ENOCH = xmod.sign_vectors[1]; // adding EnochRoot to the Peter-signed note
const sumdb = fixture('checkpoints-go-sumdb-real.json');
const SUMDB = sumdb.vectors[0];
const rekor = fixture('checkpoints-rekor-real.json');
const REKOR = rekor.vectors.find((v: any) => v.expect.result === 'valid');
const c2sp = fixture('signed-note-c2sp-example.json');
const C2SP_TAMPERED = c2sp.vectors.find((v: any) => v.name === 'derived: text tampered');
const staticCt = fixture('checkpoints-static-ct-real.json');

let dir: string;
const path = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gossip-witness-cli-'));
  writeFileSync(path('peter.key'), PETER.skey + '\n', { mode: 0o600 });
  writeFileSync(path('enoch.key'), ENOCH.skey + '\n', { mode: 0o600 });
  writeFileSync(path('open.key'), PETER.skey + '\n', { mode: 0o600 });
  chmodSync(path('peter.key'), 0o600);
  chmodSync(path('enoch.key'), 0o600);
  chmodSync(path('open.key'), 0o644);
  writeFileSync(path('text.txt'), SIGN_PETER.text);
  writeFileSync(path('sumdb.note'), SUMDB.note);
  writeFileSync(path('rekor.note'), REKOR.note);
  writeFileSync(path('tampered.note'), C2SP_TAMPERED.note);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gossip-witness keygen', () => {
  it('writes the skey with mode 0600 and prints the 0x01 vkey and the 0x04 cosignature vkey', async () => {
    const r = await cli(['keygen', '--name', 'witness.example/w1', '--out', path('w1.key')]);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(path('w1.key')).mode & 0o777).toBe(0o600);
    const content = readFileSync(path('w1.key'), 'utf8');
    expect(content).toMatch(/^PRIVATE\+KEY\+witness\.example\/w1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/);
    const key = parseSkey(content.trim());

    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const [vkey, cosigVkey] = lines;
    expect(vkey).toBe(key.vkey);
    expect(cosigVkey).toBe(key.cosignatureVkey);
    const v = parseVkey(vkey);
    const c = parseVkey(cosigVkey);
    expect([v.name, v.type]).toEqual(['witness.example/w1', 0x01]);
    expect([c.name, c.type]).toEqual(['witness.example/w1', 0x04]);
    expect(Buffer.from(v.key).equals(Buffer.from(key.publicKey))).toBe(true);
    expect(Buffer.from(c.key).equals(Buffer.from(key.publicKey))).toBe(true);
    expect(parseCosignatureVkey(vkey).vkey).toBe(cosigVkey);

    // The new key signs, and the signature verifies with the printed vkey.
    const signed = await cli(['note', 'sign', '--key', path('w1.key')], 'hello\n');
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stdout.startsWith('hello\n\n\u2014 witness.example/w1 ')).toBe(true);
    const verified = await cli(['note', 'verify', '--vkey', vkey], signed.stdout);
    expectVerified(verified, [`verified witness.example/w1 ${vkey.split('+')[1]}`]);

    // Refuses to overwrite the key file.
    const again = await cli(['keygen', '--name', 'witness.example/w1', '--out', path('w1.key')]);
    expectUsage(again);
    expect(again.stderr).toMatch(/exists/);
    expect(readFileSync(path('w1.key'), 'utf8')).toBe(content);
  }, TEST_TIMEOUT_MS);

  it('refuses a bad name and missing flags with exit 2, creating no file', async () => {
    const [space, plus, noName, noOut, none] = await Promise.all([
      cli(['keygen', '--name', 'bad name', '--out', path('bad1.key')]),
      cli(['keygen', '--name', 'bad+name', '--out', path('bad2.key')]),
      cli(['keygen', '--out', path('bad3.key')]),
      cli(['keygen', '--name', 'witness.example/w2']),
      cli(['keygen']),
    ]);
    for (const r of [space, plus, noName, noOut, none]) expectUsage(r);
    expect(space.stderr).toMatch(/name/);
    expect(noName.stderr).toMatch(/--name/);
    expect(noOut.stderr).toMatch(/--out/);
    for (const f of ['bad1.key', 'bad2.key', 'bad3.key']) expect(existsSync(path(f))).toBe(false);
  }, TEST_TIMEOUT_MS);
});

describe('gossip-witness note sign', () => {
  it('signs a file and stdin exactly as Go note.Sign does, and the output verifies', async () => {
    const [fromFile, fromStdin, fromDash] = await Promise.all([
      cli(['note', 'sign', '--key', path('peter.key'), path('text.txt')]),
      cli(['note', 'sign', '--key', path('peter.key')], SIGN_PETER.text),
      cli(['note', 'sign', '--key', path('peter.key'), '-'], SIGN_PETER.text),
    ]);
    for (const r of [fromFile, fromStdin, fromDash]) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(SIGN_PETER.expect_signed_note);
    }
    const verified = await cli(['note', 'verify', '--vkey', PETER.vkey], fromStdin.stdout);
    expectVerified(verified, ['verified PeterNeumann c74f20a3']);
  }, TEST_TIMEOUT_MS);

  it('signing an already signed note appends a signature (and re-signing with the same key replaces it)', async () => {
    writeFileSync(path('peter.note'), SIGN_PETER.expect_signed_note);
    const [appended, resigned] = await Promise.all([
      cli(['note', 'sign', '--key', path('enoch.key'), path('peter.note')]),
      cli(['note', 'sign', '--key', path('peter.key'), path('peter.note')]),
    ]);
    expect(appended.status, appended.stderr).toBe(0);
    expect(appended.stdout).toBe(SIGN_ENOCH.expect_signed_note);
    expect(appended.stdout.startsWith(SIGN_PETER.expect_signed_note)).toBe(true);
    expect(resigned.status, resigned.stderr).toBe(0);
    expect(resigned.stdout).toBe(SIGN_PETER.expect_signed_note);

    const [both, onlyEnoch] = await Promise.all([
      cli(['note', 'verify', '--vkey', PETER.vkey, '--vkey', ENOCH.vkey], appended.stdout),
      cli(['note', 'verify', '--vkey', ENOCH.vkey], appended.stdout),
    ]);
    expectVerified(both, ['verified PeterNeumann c74f20a3', 'verified EnochRoot af0cfe78']);
    expectVerified(onlyEnoch, ['verified EnochRoot af0cfe78']);
  }, TEST_TIMEOUT_MS);

  it('refuses a key file readable by others (mode 0644) and an unusable key file with exit 2', async () => {
    writeFileSync(path('garbage.key'), 'not a key\n', { mode: 0o600 });
    const [open, missing, garbage, noKey] = await Promise.all([
      cli(['note', 'sign', '--key', path('open.key')], SIGN_PETER.text),
      cli(['note', 'sign', '--key', path('missing.key')], SIGN_PETER.text),
      cli(['note', 'sign', '--key', path('garbage.key')], SIGN_PETER.text),
      cli(['note', 'sign'], SIGN_PETER.text),
    ]);
    for (const r of [open, missing, garbage, noKey]) expectUsage(r);
    expect(open.stderr).toMatch(/644|readable/);
  }, TEST_TIMEOUT_MS);

  it('refuses text it cannot sign (no final newline, control characters) with exit 2 (bad input)', async () => {
    const [noNewline, control] = await Promise.all([
      cli(['note', 'sign', '--key', path('peter.key')], 'no newline'),
      cli(['note', 'sign', '--key', path('peter.key')], 'tab\there\n'),
    ]);
    expectRefused(noNewline, /malformed note/, 2);
    expectRefused(control, /malformed note/, 2);
  }, TEST_TIMEOUT_MS);
});

describe('gossip-witness note verify', () => {
  it('verifies real checkpoints: sumdb (Ed25519) and Rekor (ECDSA), from a file or stdin', async () => {
    const [sum, sumStdin, rek, twoKeys] = await Promise.all([
      cli(['note', 'verify', '--vkey', sumdb.verifier_key, path('sumdb.note')]),
      cli(['note', 'verify', '--vkey', sumdb.verifier_key], SUMDB.note),
      cli(['note', 'verify', '--vkey', REKOR.verifier_key, path('rekor.note')]),
      cli(['note', 'verify', '--vkey', REKOR.verifier_key, '--vkey', sumdb.verifier_key, path('sumdb.note')]),
    ]);
    expectVerified(sum, ['verified sum.golang.org 033de0ae']);
    expectVerified(sumStdin, ['verified sum.golang.org 033de0ae']);
    expectVerified(rek, ['verified rekor.sigstore.dev c0d23d6a']);
    expectVerified(twoKeys, ['verified sum.golang.org 033de0ae']);
  }, TEST_TIMEOUT_MS);

  it('exits 1 with a one-line reason for a bad signature and an unverifiable note; 2 for a malformed note', async () => {
    const borked = staticCt.vectors.find((v: any) => v.name.startsWith('B0rked'));
    const [tampered, ctBorked, unknownKey, malformed, badUtf8, noSigs] = await Promise.all([
      cli(['note', 'verify', '--vkey', C2SP_TAMPERED.verifier_keys[0], path('tampered.note')]),
      cli(['note', 'verify', '--vkey', borked.verifier_key], borked.note),
      cli(['note', 'verify', '--vkey', REKOR.verifier_key, path('sumdb.note')]),
      cli(['note', 'verify', '--vkey', sumdb.verifier_key], SUMDB.note.replace('\n\n', '\n')),
      cli(['note', 'verify', '--vkey', sumdb.verifier_key], Buffer.concat([Buffer.from(SUMDB.note), Buffer.of(0xff, 0x0a)])),
      cli(['note', 'verify', '--vkey', sumdb.verifier_key], SUMDB.note.slice(0, SUMDB.note.indexOf('\n\n') + 2)),
    ]);
    expectRefused(tampered, 'invalid signature for key example.com/foo+530d903a');
    expectRefused(ctBorked, 'invalid signature for key rome.ct.filippo.io/2024h1+78f4abae');
    expectRefused(unknownKey, 'note has no verifiable signatures');
    for (const r of [malformed, badUtf8, noSigs]) expectRefused(r, 'malformed note', 2);
  }, TEST_TIMEOUT_MS);

  it('exits 2 for an unreadable file, a bad vkey and a missing --vkey', async () => {
    const wrongId = sumdb.verifier_key.replace('+033de0ae+', '+033de0af+');
    const [unreadable, isDir, badVkey, garbageVkey, noVkey, noVkeyStdin] = await Promise.all([
      cli(['note', 'verify', '--vkey', sumdb.verifier_key, path('does-not-exist.note')]),
      cli(['note', 'verify', '--vkey', sumdb.verifier_key, dir]),
      cli(['note', 'verify', '--vkey', wrongId, path('sumdb.note')]),
      cli(['note', 'verify', '--vkey', 'not a vkey', path('sumdb.note')]),
      cli(['note', 'verify', path('sumdb.note')]),
      cli(['note', 'verify'], SUMDB.note),
    ]);
    for (const r of [unreadable, isDir, badVkey, garbageVkey]) expectUsage(r);
    expect(badVkey.stderr).toMatch(/key ID/);
    // No --vkey at all is a usage error, not a refused note.
    for (const r of [noVkey, noVkeyStdin]) {
      expectUsage(r);
      expect(r.stderr).toMatch(/--vkey/);
    }
  }, TEST_TIMEOUT_MS);
});
