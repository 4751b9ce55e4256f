// The same split-view scenario with each witness process in its own Linux network namespace
// (its own address on a private bridge, no loopback shortcuts, allowLoopback off). Runs only as
// root where `ip netns` works (skipped otherwise with the reason, or with GW_SKIP_NETNS=1; fails
// instead under INTEROP_REQUIRED=1, as CI sets after .ci/install-netns.sh). Everything created
// (a bridge, veth pairs, namespaces, all named with this process's id on a private 10.231.x.0/24)
// is removed afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { launch, parseNetworkConfig, type LaunchedNetwork } from '../../src/launcher/index.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { parseVkey } from '../../src/note/keys.js';
import { originHash } from '../../src/checkpoint/checkpoint.js';
import { waitFor } from './helpers.js';

const COUNT = 3;
const id = process.pid % 100_000;
const subnet = `10.231.${20 + (process.pid % 200)}`;
const bridge = `gwb${id}`;
const ns = (i: number) => `gw-ns-${id}-${i}`;
const veth = (i: number) => `gwv${id}x${i}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function netnsUnavailable(): string | undefined {
  if (process.env.GW_SKIP_NETNS) return 'GW_SKIP_NETNS is set';
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_SYS_ADMIN)';
  try {
    ip('netns', 'list');
    return undefined;
  } catch (e) {
    return `ip netns does not work: ${(e as Error).message.split('\n')[0]}`;
  }
}

const why = netnsUnavailable();
const required = process.env.INTEROP_REQUIRED === '1';
if (why && !required) console.warn(`netns: gossip between processes in network namespaces skipped: ${why}`);
let net: LaunchedNetwork | undefined;
const cleanup: (() => void)[] = [];

function setUp(): void {
  ip('link', 'add', bridge, 'type', 'bridge');
  cleanup.push(() => ip('link', 'del', bridge));
  ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  for (let i = 0; i < COUNT; i++) {
    ip('netns', 'add', ns(i));
    cleanup.push(() => ip('netns', 'del', ns(i)));
    ip('link', 'add', veth(i), 'type', 'veth', 'peer', 'name', `${veth(i)}p`);
    cleanup.push(() => {
      try {
        ip('link', 'del', veth(i));
      } catch {
        // gone with its namespace
      }
    });
    ip('link', 'set', `${veth(i)}p`, 'netns', ns(i));
    ip('link', 'set', veth(i), 'master', bridge);
    ip('link', 'set', veth(i), 'up');
    ip('netns', 'exec', ns(i), 'ip', 'addr', 'add', `${subnet}.${10 + i}/24`, 'dev', `${veth(i)}p`);
    ip('netns', 'exec', ns(i), 'ip', 'link', 'set', `${veth(i)}p`, 'up');
    ip('netns', 'exec', ns(i), 'ip', 'link', 'set', 'lo', 'up');
  }
}

describe.skipIf(why !== undefined && !required)(`gossip between node processes in separate network namespaces${why ? ` (SKIPPED: ${why})` : ''}`, () => {
  beforeAll(async () => {
    if (why) return; // each test then fails with the reason (INTEROP_REQUIRED=1)
    setUp();
    const network = parseNetworkConfig(`
logs:
  - { name: nslog, interval: 100ms, forkAt: 4 }
witnesses:
  - { name: w0 }
  - { name: w1 }
  - { name: w2, sees: { nslog: b } }
`);
    net = await launch({
      network,
      logHost: `${subnet}.1`,
      placement: (w) => {
        const i = Number(w.slice(1));
        return { host: `${subnet}.${10 + i}`, prefix: ['ip', 'netns', 'exec', ns(i)] };
      },
    });
  }, 60_000);

  afterAll(async () => {
    await net?.stop();
    for (const c of cleanup.reverse()) {
      try {
        c();
      } catch {
        // best effort; reported by the next assertion run if anything is left
      }
    }
  }, 30_000);

  it('a log equivocating toward one witness is proven at every node, across namespaces', async () => {
    if (why) throw new Error(`INTEROP_REQUIRED=1 but ${why}`);
    const n = net!;
    const { log, origin, vkey } = n.logs.get('nslog')!;
    const sizeAt = async (url: string) => {
      const r = await fetch(`${url}/${originHash(origin)}/checkpoint`);
      return r.status === 200 ? BigInt((await r.text()).split('\n')[1]) : 0n;
    };
    await log.append(['e0', 'e1', 'e2', 'e3']);
    await log.publish();
    await waitFor(async () => (await Promise.all(n.witnesses.map((w) => sizeAt(w.url)))).every((s) => s === 4n), 'every witness at size 4', 15_000);
    const t0 = Date.now();
    await log.append(['e4', 'e5']);
    await log.publish();
    const at = new Map<string, number>();
    await waitFor(async () => {
      for (const w of n.witnesses) {
        if (at.has(w.name)) continue;
        const list = (await (await fetch(`${w.url}/evidence`)).json()) as { id: string }[];
        if (list.length > 0) at.set(w.name, Date.now() - t0);
      }
      return at.size === n.witnesses.length;
    }, 'evidence at every witness', 20_000);
    console.log(`fork -> evidence (push), 3 node processes in 3 network namespaces: ${[...at].map(([w, ms]) => `${w} ${ms} ms`).join(', ')}`);
    for (const w of n.witnesses) {
      expect(w.url).toMatch(new RegExp(`^http://${subnet.replace(/\./g, '\\.')}\\.1[0-9]:`));
      const [{ id: evId }] = (await (await fetch(`${w.url}/evidence`)).json()) as { id: string }[];
      const v = verifyEvidence(new Uint8Array(await (await fetch(`${w.url}/evidence/${evId}`)).arrayBuffer()), () => [parseVkey(vkey)]);
      expect(v.ok).toBe(true);
      const metrics = await (await fetch(`${w.url}/metrics`)).text();
      expect(Number(/^gossip_peers (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    }
  }, 40_000);
});
