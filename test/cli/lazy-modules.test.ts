// Memory (issue 14): a command loads only its own modules. `serve` without a p2p: block must not
// load libp2p's address parsers (about 100 modules) nor other commands' modules (the simulator's
// cli-progress, the client's policy code); with a p2p: block the parsers load. Observed with an
// ESM load hook in the child process that records every module URL.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { COMMANDS, commandName, registerCommands } from '../../src/cli/commands.js';
import { generateKey } from '../../src/note/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'gw-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, ctx, next) { const r = await next(url, ctx); appendFileSync(process.env.GW_MODULE_LOG, url + '\\n'); return r; }`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(HOOKS))});`;

/** Runs the CLI under tsx with the load hook; returns the module URLs it loaded and its exit. */
function modulesOf(args: string[], name: string): { urls: string[]; status: number | null; stderr: string } {
  const log = join(dir, `${name}.modules`);
  const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(REGISTER), '--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, GW_MODULE_LOG: log },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { urls: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [], status: r.status, stderr: r.stderr };
}

function config(name: string, extra = ''): string {
  const log = generateKey('example.com/log');
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: witness.example/w\nkey: ${name}.key\ndata: ${name}-data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: example.com/log, vkeys: ["${log.vkey}"] }\n${extra}`);
  return file;
}

const libp2p = (urls: string[]) => urls.filter((u) => u.includes('/@multiformats/multiaddr/') || u.includes('/@libp2p/'));

describe('lazy command modules', () => {
  it('serve without p2p: loads neither libp2p nor other commands', () => {
    const r = modulesOf(['serve', '--config', config('plain'), '--print-vkey'], 'plain');
    expect(r.status, r.stderr).toBe(0);
    expect(r.urls.some((u) => u.endsWith('/src/cli/serve.ts'))).toBe(true);
    expect(libp2p(r.urls)).toEqual([]);
    for (const other of ['simulate', 'verify', 'fetch', 'log', 'keygen', 'note', 'proof', 'evidence', 'store', 'launch']) {
      expect(r.urls.filter((u) => u.endsWith(`/src/cli/${other}.ts`))).toEqual([]);
    }
    expect(r.urls.filter((u) => u.includes('/cli-progress/'))).toEqual([]);
  }, 90_000);

  it('serve with a p2p: block loads the address parsers', () => {
    const r = modulesOf(['serve', '--config', config('p2p', 'p2p: { listen: ["/ip4/127.0.0.1/tcp/0"] }\n'), '--print-vkey'], 'p2p');
    expect(r.status, r.stderr).toBe(0);
    expect(libp2p(r.urls).length).toBeGreaterThan(0);
  }, 90_000);

  it('registers only the named command, or all of them for help and unknown names', async () => {
    const names = (p: Command) => p.commands.map((c) => c.name()).sort();
    const all = COMMANDS.flatMap((c) => c.names).sort();
    const one = new Command();
    await registerCommands(one, ['serve', '--config', 'x']);
    expect(names(one)).toEqual(['serve']);
    const client = new Command();
    await registerCommands(client, ['fetch']);
    expect(names(client)).toEqual(['fetch', 'verify']);
    for (const args of [[], ['--help'], ['no-such-command']]) {
      const p = new Command();
      await registerCommands(p, args);
      expect(names(p)).toEqual(all);
    }
    expect(commandName(['--help', 'log', 'serve'])).toBe('log');
  }, 60_000);
});
