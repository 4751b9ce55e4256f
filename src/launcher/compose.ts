// Reads docker-compose.yml and returns the launcher's NetworkConfig for the same topology, so CI
// (no Docker engine) runs it with launch() on 127.0.0.1 (test/deploy/compose.test.ts).
//
// The compose file's `init` service runs `gossip-witness launch --prepare compose --network FILE
// --dir DIR`: FILE (bind-mounted from the repository) is the single description of the network,
// and prepareNetwork() generates the keys and witness configs from it, for containers here and
// for local processes in the launcher. This module finds FILE through the init service's bind
// mount, parses it, and checks that every other service agrees with it: one `serve --config
// DIR/<name>/witness.yaml` service per witness with its volume at DIR/<name> (shared with init),
// and one `log serve` service per log whose flags (origin, key, interval, push targets, fork)
// match. A compose file that drifts from the network file is an error here, not a silent
// difference. What differs under Docker is documented in docs/operator-guide.md.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../config.js';
import { parseNetworkConfig, type NetworkConfig } from './network.js';
import { COMPOSE_PORTS, FORK_HEADER } from './launcher.js';
import { GossipWitnessError } from '../errors.js';

export class ComposeError extends GossipWitnessError {
  constructor(file: string, problems: readonly string[]) {
    super({ code: 'CONFIG', message: problems.map((p) => `compose ${file}: ${p}`).join('\n') });
    this.name = 'ComposeError';
  }
}

export interface ComposeTopology {
  readonly network: NetworkConfig;
  /** The network config file on the host (the init service's bind mount). */
  readonly networkFile: string;
  /** The directory the init service prepares (inside the containers). */
  readonly dir: string;
  /** Services by role; services in a profile (e.g. the public witness) are not part of the topology. */
  readonly services: { readonly init: string; readonly logs: readonly string[]; readonly witnesses: readonly string[] };
}

interface Service {
  entrypoint?: unknown;
  command?: unknown;
  volumes?: unknown;
  profiles?: unknown;
}

/** A compose command (list, or a string split like a shell would for simple words). */
function argv(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v).trim().split(/\s+/);
}

/** The words of a service's full command line; a `sh -c "..."` script is split into words. */
function words(s: Service): string[] {
  const all = [...argv(s.entrypoint), ...argv(s.command)];
  const c = all.indexOf('-c');
  if ((all[0] === 'sh' || all[0] === 'bash' || all[0] === '/bin/sh') && c >= 0) return all.slice(c + 1).flatMap((x) => x.split(/\s+/)).filter(Boolean);
  return all;
}

function flag(ws: readonly string[], name: string): string | undefined {
  const i = ws.indexOf(name);
  return i >= 0 ? ws[i + 1] : undefined;
}

function flags(ws: readonly string[], name: string): string[] {
  const out: string[] = [];
  ws.forEach((w, i) => {
    if (w === name && ws[i + 1] !== undefined) out.push(ws[i + 1]);
  });
  return out;
}

/** Short-syntax volumes `source:target[:mode]` and long syntax `{ source, target }`. */
function mounts(s: Service): { source: string; target: string }[] {
  if (!Array.isArray(s.volumes)) return [];
  return s.volumes.flatMap((v) => {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      return target ? [{ source, target }] : [];
    }
    if (v && typeof v === 'object' && 'target' in v) return [{ source: String((v as { source?: unknown }).source ?? ''), target: String((v as { target: unknown }).target) }];
    return [];
  });
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** Parses docker-compose.yml text (file: its path, for messages and relative bind mounts). */
export function parseCompose(text: string, file: string): ComposeTopology {
  const problems: string[] = [];
  const doc = parse(text, { merge: true }) as { services?: Record<string, Service> } | null;
  const all = Object.entries(doc?.services ?? {}).filter(([, s]) => s.profiles === undefined);
  const inits = all.filter(([, s]) => {
    const ws = words(s);
    return ws.includes('launch') && flag(ws, '--prepare') === 'compose';
  });
  if (inits.length !== 1) throw new ComposeError(file, [`expected one service running "gossip-witness launch --prepare compose", found ${inits.length}`]);
  const [initName, init] = inits[0];
  const iw = words(init);
  const target = flag(iw, '--network');
  const dir = flag(iw, '--dir');
  if (!target || !dir) throw new ComposeError(file, [`${initName}: needs --network and --dir`]);
  const bind = mounts(init).find((m) => m.target === target && (m.source.startsWith('.') || m.source.startsWith('/')));
  if (!bind) throw new ComposeError(file, [`${initName}: ${target} is not bind-mounted from the host`]);
  const networkFile = isAbsolute(bind.source) ? bind.source : resolve(dirname(resolve(file)), bind.source);
  const network = parseNetworkConfig(readFileSync(networkFile, 'utf8'), networkFile);
  const initMounts = new Map(mounts(init).map((m) => [m.target, m.source]));
  const byName = new Map(all);

  // Witnesses: `serve --config DIR/<name>/witness.yaml`, the volume init prepared at DIR/<name>.
  for (const w of network.witnesses) {
    const s = byName.get(w.name);
    if (!s) {
      problems.push(`no service for witness ${w.name}`);
      continue;
    }
    const ws = words(s);
    const home = `${dir}/${w.name}`;
    if (ws[0] !== 'serve' || flag(ws, '--config') !== `${home}/witness.yaml`) problems.push(`${w.name}: command must be serve --config ${home}/witness.yaml`);
    const vol = mounts(s).find((m) => m.target === home);
    if (!vol) problems.push(`${w.name}: no volume at ${home}`);
    else if (initMounts.get(home) !== vol.source) problems.push(`${w.name}: ${initName} does not prepare its volume ${vol.source} at ${home}`);
  }

  // Logs: `log serve` with the network's parameters; push targets by service name at the fixed port.
  const url = (w: string) => `http://${w}:${COMPOSE_PORTS.witnessHttp}`;
  for (const l of network.logs) {
    const s = byName.get(l.name);
    if (!s) {
      problems.push(`no service for log ${l.name}`);
      continue;
    }
    const ws = words(s);
    const home = `${dir}/${l.name}`;
    const at = (what: string) => `${l.name}: ${what}`;
    if (ws[0] !== 'log' || ws[1] !== 'serve') {
      problems.push(at('command must be log serve ...'));
      continue;
    }
    if (flag(ws, '--origin') !== l.origin) problems.push(at(`--origin must be ${l.origin}`));
    if (flag(ws, '--key') !== `${home}/log.key`) problems.push(at(`--key must be ${home}/log.key (the key init generated)`));
    if (initMounts.get(home) === undefined || mounts(s).find((m) => m.target === home)?.source !== initMounts.get(home)) problems.push(at(`its volume at ${home} must be the one ${initName} prepares`));
    if (flag(ws, '--listen') !== `0.0.0.0:${COMPOSE_PORTS.log}`) problems.push(at(`--listen must be 0.0.0.0:${COMPOSE_PORTS.log}`));
    const interval = parseDuration(flag(ws, '--interval') ?? '1s');
    if (interval !== l.intervalMs) problems.push(at(`--interval must be ${l.intervalMs}ms`));
    const pushed = network.witnesses.filter((w) => w.push.includes(l.name));
    const a = pushed.filter((w) => (w.sees[l.name] ?? 'a') === 'a').map((w) => url(w.name));
    const b = pushed.filter((w) => w.sees[l.name] === 'b').map((w) => url(w.name));
    const forkWitness = flags(ws, '--fork-witness');
    if (!sameSet(flags(ws, '--witness').filter((u) => !forkWitness.includes(u)), a)) problems.push(at(`--witness must be exactly ${a.join(', ') || '(none)'}`));
    if (!sameSet(forkWitness, b)) problems.push(at(`--fork-witness must be exactly ${b.join(', ') || '(none)'}`));
    const forkAt = flag(ws, '--fork-at');
    if ((forkAt === undefined ? undefined : BigInt(forkAt)) !== l.forkAt) problems.push(at(`--fork-at must be ${l.forkAt ?? '(absent)'}`));
    if (l.forkAt !== undefined && flag(ws, '--fork-header') !== FORK_HEADER) problems.push(at(`--fork-header must be ${FORK_HEADER}`));
    for (const w of network.witnesses) if (w.pull.includes(l.name) && !byName.has(w.name)) problems.push(at(`pulled by ${w.name}, which has no service`));
  }

  const known = new Set([initName, ...network.logs.map((l) => l.name), ...network.witnesses.map((w) => w.name)]);
  for (const [name] of all) if (!known.has(name)) problems.push(`service ${name} is not in ${networkFile} (put extra services in a profile)`);
  if (problems.length > 0) throw new ComposeError(file, problems);
  return { network, networkFile, dir, services: { init: initName, logs: network.logs.map((l) => l.name), witnesses: network.witnesses.map((w) => w.name) } };
}

export function loadCompose(file: string): ComposeTopology {
  return parseCompose(readFileSync(file, 'utf8'), file);
}
