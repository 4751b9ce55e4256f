// The docker compose topology, run without Docker: src/launcher/compose.ts reads docker-compose.yml
// and the network config its init service mounts, and the launcher starts the same log and three
// witness processes (`gossip-witness serve` on configs from the same generator) on 127.0.0.1.
// End to end: the log advances, every witness cosigns, cosignatures are gossiped, and the log's
// equivocation toward w3 becomes verified evidence at every witness.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { launch, loadCompose, type ComposeTopology, type LaunchedNetwork } from '../../src/launcher/index.js';
import { loadConfig } from '../../src/config.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { parseVkey } from '../../src/note/keys.js';
import { monitoringUrl } from '../../src/policy/index.js';
import { waitFor } from '../gossip/helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE = join(ROOT, 'docker-compose.yml');

let topo: ComposeTopology;
let net: LaunchedNetwork | undefined;
beforeAll(async () => {
  topo = loadCompose(COMPOSE);
  net = await launch({ network: topo.network });
}, 60_000);
afterAll(async () => {
  await net?.stop();
}, 30_000);

async function sizeAt(url: string, origin: string): Promise<bigint> {
  const r = await fetch(monitoringUrl(url, origin));
  return r.status === 200 ? BigInt((await r.text()).split('\n')[1]) : 0n;
}

async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** POST /add, as `gossip-witness log add` does against the compose log service. */
async function add(logUrl: string, entry: string): Promise<void> {
  const r = await fetch(`${logUrl}/add`, { method: 'POST', body: entry });
  expect(r.status).toBe(200);
}

describe('docker-compose.yml without Docker', () => {
  it('the log advances, all three witnesses cosign and gossip, and the equivocation is proven at every witness', async () => {
    const n = net!;
    expect(n.witnesses.map((w) => w.name)).toEqual(topo.services.witnesses);
    const { origin, url: logUrl, vkey } = n.logs.get('log1')!;
    const forkAt = Number(topo.network.logs[0].forkAt);
    expect(forkAt).toBeGreaterThan(0);

    // Honest phase: up to the fork size.
    for (let i = 0; i < forkAt; i++) await add(logUrl, `entry ${i}`);
    await waitFor(async () => (await Promise.all(n.witnesses.map((w) => sizeAt(w.url, origin)))).every((s) => s === BigInt(forkAt)), `every witness cosigns size ${forkAt}`, 20_000);

    // Gossip: every witness accepted cosigned checkpoints carrying cosignatures new to it.
    await waitFor(async () => (await Promise.all(n.witnesses.map((w) => metric(w.url, 'gossip_messages_total', 'verdict="accept"')))).every((c) => c > 0), 'gossip at every witness', 20_000);
    for (const w of n.witnesses) expect(Number(/^gossip_peers (\d+)/m.exec(await (await fetch(`${w.url}/metrics`)).text())?.[1])).toBe(n.witnesses.length - 1);
    // The log's own checkpoint carries the cosignatures of the witnesses it showed branch a.
    const cp = await (await fetch(`${logUrl}/checkpoint`)).text();
    for (const w of n.witnesses.filter((x) => x.name !== 'w3')) expect(cp).toContain(`\u2014 ${w.keyName} `);

    // The fork: two more entries; w3 is pushed branch b.
    await add(logUrl, 'entry A');
    await add(logUrl, 'entry B');
    const keys = [parseVkey(vkey)];
    await waitFor(async () => {
      for (const w of n.witnesses) {
        const list = (await (await fetch(`${w.url}/evidence?origin=${encodeURIComponent(origin)}`)).json()) as { id: string }[];
        if (list.length === 0) return false;
      }
      return true;
    }, 'evidence at every witness', 20_000);
    for (const w of n.witnesses) {
      const [{ id }] = (await (await fetch(`${w.url}/evidence?origin=${encodeURIComponent(origin)}`)).json()) as { id: string }[];
      const v = verifyEvidence(new Uint8Array(await (await fetch(`${w.url}/evidence/${id}`)).arrayBuffer()), () => keys);
      expect(v.ok, `${w.name}: ${v.ok ? '' : v.reason}`).toBe(true);
    }
    // Each witness kept cosigning its own branch. Evidence can already exist at size forkAt + 1
    // (each branch signed once after the fork) before size forkAt + 2 is cosigned: wait for it.
    await waitFor(async () => (await Promise.all(n.witnesses.map((w) => sizeAt(w.url, origin)))).every((s) => s === BigInt(forkAt + 2)), `every witness cosigns size ${forkAt + 2}`, 20_000);
  }, 60_000);

  it("the init service's command (launch --prepare compose) writes the witness configs the services run", () => {
    const doc = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as { services: Record<string, { entrypoint: string[] }> };
    const script = doc.services.init.entrypoint.at(-1)!.split('&&')[0].trim();
    const dir = mkdtempSync(join(tmpdir(), 'gw-compose-prepare-'));
    try {
      const args = script
        .split(/\s+/)
        .slice(1) // "gossip-witness"
        .map((a) => (a === topo.dir ? dir : a === '/etc/gossip-witness/local-network.yaml' ? topo.networkFile : a));
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      for (const w of topo.services.witnesses) {
        expect(r.stdout).toMatch(new RegExp(`^witness ${w}: config ${dir}/${w}/witness.yaml vkey ${w}\\.example\\.local\\+\\S+ p2p /dns4/${w}/tcp/7381/p2p/12D3KooW\\w+$`, 'm'));
        expect(loadConfig(join(dir, w, 'witness.yaml')).name).toBe(`${w}.example.local`);
      }
      expect(r.stdout).toMatch(new RegExp(`^log log1: key ${dir}/log1/log.key origin "example.local/log1" vkey example.local/log1\\+`, 'm'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
