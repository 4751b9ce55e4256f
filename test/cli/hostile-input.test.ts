// Bad input at the config-file and CLI entry points (an audit, 2026-12-08): each describe is one
// finding (F1-F10), and each test failed before its fix: a clear error and exit 2, never a stack
// trace, a 1 ms timer, a process that eats the memory, or a file overwritten.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, ConfigError } from '../../src/config.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { generateKey, signNote } from '../../src/note/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'gw-hostile-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

const LOG = generateKey('example.com/log');
const base = (extra = '') => `name: witness.example/w1\nkey: w1.key\ndata: w1-data\nhttp: { listen: 127.0.0.1:0 }\nlogs:\n  - { origin: example.com/log, vkeys: ["${LOG.vkey}"] }\n${extra}`;

function write(name: string, text: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The CLI from source (as test/cli/serve.test.ts runs it). */
function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, input: input ?? '', encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function configProblems(text: string): string[] | 'accepted' {
  try {
    parseConfig(text, join(dir, 'w.yaml'));
    return 'accepted';
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
}

describe('F1: durations beyond a Node timer (2^31-1 ms, about 24.8 days) become 1 ms timers', () => {
  // Node clamps setTimeout/setInterval delays above 2^31-1 ms to 1 ms (TimeoutOverflowWarning):
  // logListRefresh: 30d re-reads the log list about every millisecond (a hot loop against a list
  // URL), p2p.startupSync: 30d skips the start-up sync, store.timeout: 30d times out every query.
  it.each([
    ['logListRefresh: 30d', 'logListRefresh'],
    ['p2p: { startupSync: 30d }', 'p2p.startupSync'],
  ])('config %s is refused', (extra, path) => {
    const r = configProblems(base(extra));
    expect(r).not.toBe('accepted');
    expect((r as string[]).join('\n')).toContain(path);
  });

  it('config store.timeout: 30d (pg query_timeout, a setTimeout) is refused', () => {
    const r = configProblems(`name: witness.example/w1\nkey: w1.key\nstore: { url: "postgres://u@h/db", timeout: 30d }\nlogs:\n  - { origin: example.com/log, vkeys: ["${LOG.vkey}"] }\n`);
    expect(r).not.toBe('accepted');
  });

  it('log serve --interval 30d is a usage error, not a 1 ms signing interval', () => {
    // Today it starts; the first stderr line is a TimeoutOverflowWarning. Bounded: killed after 3 s.
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'log', 'serve', '--origin', 'example.com/log', '--listen', '127.0.0.1:0', '--interval', '30d', '--log-level', 'silent'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 6_000,
      killSignal: 'SIGKILL',
    });
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
    expect(r.status).toBe(2);
  });
});

describe('F2: store verify --data on a file is a bug (exit 70, stack trace)', () => {
  it('exits 2 with a one-line reason', () => {
    const f = write('not-a-dir', 'x');
    const r = cli(['store', 'verify', '--data', f]);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect([1, 2]).toContain(r.status);
  });
});

describe('F3: a NUL byte in a config path is a bug (exit 70, stack trace)', () => {
  it('parseConfig refuses data: with a NUL', () => {
    expect(configProblems(base().replace('data: w1-data', 'data: "w1\\0data"'))).not.toBe('accepted');
  });

  it('serve exits 2, not 70', () => {
    const key = generateKey('witness.example/w1');
    write('w1.key', key.skey + '\n');
    chmodSync(join(dir, 'w1.key'), 0o600);
    const cfg = write('nul.yaml', base().replace('data: w1-data', 'data: "w1\\0data"'));
    const r = cli(['serve', '--config', cfg, '--log-level', 'silent']);
    expect(r.stderr).not.toContain('internal error');
    expect(r.status).toBe(2);
  });
});

describe('F4: simulate --out FILE is a bug (exit 70, stack trace)', () => {
  it('exits 2', () => {
    const f = write('out-file', 'x');
    const r = cli(['simulate', 'network-config/scenarios/small.yaml', '--out', f]);
    expect(r.stderr).not.toContain('internal error');
    expect(r.status).toBe(2);
  });
});

describe('F5: CLI inputs (policy, note, proof, evidence) are read without a size limit', () => {
  it('verify --policy /dev/zero exits 2 instead of exhausting memory', () => {
    // The bundled CLI under a 1.5 GB address-space limit (tsx's loader thread does not start under it).
    const r = spawnSync('/bin/sh', ['-c', `ulimit -v 1500000; exec "${process.execPath}" bin/gossip-witness.js verify --policy /dev/zero /dev/null`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    expect(r.stderr).not.toContain('Fatal process out of memory');
    expect(r.stderr).not.toContain('JavaScript heap');
    expect(r.status).toBe(2);
  });
});

describe('F6: log proof --out overwrites any existing file (a key file, say)', () => {
  it('refuses an existing --out file and leaves it as it was', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'log', 'serve', '--origin', 'example.com/log', '--listen', '127.0.0.1:0', '--interval', '50ms'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const url = await new Promise<string>((res, rej) => {
      let out = '';
      const t = setTimeout(() => rej(new Error(`log serve did not start: ${out}`)), 20_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /"url":"([^"]+)"[^\n]*"msg":"log listening"/.exec(out);
        if (m) {
          clearTimeout(t);
          res(m[1]);
        }
      });
    });
    expect(cli(['log', 'add', '--url', url], 'entry\n').status).toBe(0);
    const victim = write('victim.key', 'PRIVATE+KEY+precious\n');
    const r = cli(['log', 'proof', '--url', url, '--index', '0', '--out', victim]);
    child.kill('SIGTERM');
    expect(readFileSync(victim, 'utf8')).toBe('PRIVATE+KEY+precious\n');
    expect(r.status).toBe(2);
  });
});

describe('F7: a malformed IP literal in http.listen / --listen exits 75 (transient: restarted forever)', () => {
  it('parseConfig refuses http.listen 999.1.1.1:0', () => {
    expect(configProblems(base().replace('127.0.0.1:0', "'999.1.1.1:0'"))).not.toBe('accepted');
  });

  it('log serve --listen 999.0.0.1:0 is a usage error (exit 2)', () => {
    const r = cli(['log', 'serve', '--origin', 'example.com/log', '--listen', '999.0.0.1:0', '--log-level', 'silent']);
    expect(r.status).toBe(2);
  });
});

describe('F8: a single-valued flag given twice is silently last-wins', () => {
  it('verify --policy A --policy B is a usage error', () => {
    const policy = write('policy.txt', `log ${LOG.vkey}\nwitness w1 ${generateKey('w1').cosignatureVkey}\nquorum w1\n`);
    const note = write('cp.note', signNote('example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', [LOG]));
    const r = cli(['verify', '--policy', join(dir, 'no-such-policy'), '--policy', policy, note]);
    // Today: the first --policy is ignored and the checkpoint is checked against the second (exit 1).
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--policy/);
  });
});

describe('F9: verify --policy - reads the checkpoint from the same (now empty) stdin', () => {
  it('says that both cannot come from stdin instead of "malformed note"', () => {
    const policy = `log ${LOG.vkey}\nquorum none\n`;
    const r = cli(['verify', '--policy', '-'], policy);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain('malformed note');
    expect(r.stderr).toMatch(/stdin/);
  });
});

describe('F10: a corrupt log-list cache is ignored, then overwritten (what it held is lost)', () => {
  it('keeps the unreadable cache somewhere', async () => {
    const d = mkdtempSync(join(dir, 'cache-'));
    const list = join(d, 'logs.txt');
    writeFileSync(list, `logs/v0\nvkey ${LOG.vkey}\n`);
    const cache = join(d, 'data.loglist');
    // An earlier list had another log (removed from the list since: still followed, by the docs);
    // one bad line makes the whole cache unreadable.
    const other = generateKey('example.com/other');
    const corrupt = `logs/v0\nvkey ${other.vkey}\nqpd nope\n`;
    writeFileSync(cache, corrupt);
    const reg = new LogRegistryImpl({ inline: [], logList: { kind: 'file', path: list }, cachePath: cache });
    await reg.start();
    reg.stop();
    const kept = readdirSync(d).some((f) => readFileSync(join(d, f), 'utf8') === corrupt);
    expect(kept).toBe(true);
  });
});

describe('smaller findings of the same audit', () => {
  it('keygen --out - is a usage error (every reader takes "-" as stdin; a private key never goes to stdout), and --out DIR says it is a directory', () => {
    const dash = cli(['keygen', '--name', 'witness.example/w1', '--out', '-']);
    expect(dash.status).toBe(2);
    expect(dash.stderr).toMatch(/--out - is not supported/);
    expect(readdirSync(ROOT)).not.toContain('-');
    const d = mkdtempSync(join(dir, 'keydir-'));
    const r = cli(['keygen', '--name', 'witness.example/w1', '--out', d]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is a directory/);
  });

  it('log add --url ftp://… is a usage error (2), not a network failure (3)', () => {
    const r = cli(['log', 'add', '--url', 'ftp://127.0.0.1:1/'], 'entry');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/must be an http:\/\/ or https:\/\/ URL/);
  });
});
