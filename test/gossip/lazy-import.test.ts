// A node without `p2p:` must not load the gossip stack (libp2p, gossipsub, noise, yamux): it is
// imported on demand by src/node/witness-node.ts. Each case starts and closes a node in a fresh
// Node process whose module hooks report every gossipsub module resolved.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateKey } from '../../src/note/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEADLINE_MS = 30_000;
const dir = mkdtempSync(join(tmpdir(), 'gw-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Runs in the hooks thread: it prints a marker line to stderr for each gossipsub module.
writeFileSync(
  join(dir, 'hooks.mjs'),
  `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/@libp2p/gossipsub/')) process.stderr.write('GOSSIPSUB-LOADED\\n'); return r; }\n`,
);
writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);

function script(withP2p: boolean, name: string): string {
  const log = generateKey('example.com/lazy');
  const yaml =
    `name: w.example\nkey: ${join(dir, `${name}.key`)}\ndata: ${join(dir, `${name}-data`)}\nhttp: { listen: "127.0.0.1:0" }\n` +
    `logs:\n  - origin: example.com/lazy\n    vkeys: ["${log.vkey}"]\n` +
    (withP2p ? `p2p:\n  listen: [/ip4/127.0.0.1/tcp/0]\n  startupSync: 0s\n` : '');
  return [
    `import './src/platform.ts';`,
    `import { parseConfig } from './src/config.ts';`,
    `import { startWitnessNode } from './src/node/witness-node.ts';`,
    `import { MemoryStore } from './src/store/memory.ts';`,
    `const node = await startWitnessNode(parseConfig(${JSON.stringify(yaml)}, ${JSON.stringify(join(dir, `${name}.yaml`))}), { store: new MemoryStore() });`,
    `process.stdout.write('STARTED gossip=' + (node.gossip !== undefined) + '\\n');`,
    `await node.close();`,
  ].join('\n');
}

function run(withP2p: boolean, name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx/esm', '--import', pathToFileURL(join(dir, 'register.mjs')).href, '--input-type=module', '-e', script(withP2p, name)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((res) => {
    const t = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('exit', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

describe('the gossip stack is imported only when p2p is configured', () => {
  it('without p2p: the node starts and gossipsub is never loaded', async () => {
    const r = await run(false, 'plain');
    expect(r.stdout, r.stderr).toContain('STARTED gossip=false');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('GOSSIPSUB-LOADED');
  }, DEADLINE_MS + 5000);

  it('with p2p: gossipsub is loaded and the gossip service runs', async () => {
    const r = await run(true, 'p2p');
    expect(r.stdout, r.stderr).toContain('STARTED gossip=true');
    expect(r.code).toBe(0);
    // The hook sees it: so the absence above is meaningful.
    expect(r.stderr).toContain('GOSSIPSUB-LOADED');
  }, DEADLINE_MS + 5000);
});
