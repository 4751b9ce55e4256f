// Every example config in network-config/ and deploy/compose/ parses with the project's own
// validators, the compose file matches the compose specification's JSON schema, and the compose
// topology agrees with the network config it is generated from (src/launcher/compose.ts).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import draft7 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { parseConfig, loadConfig } from '../../src/config.js';
import { parseLogList } from '../../src/logs/loglist.js';
import { SHUTDOWN_DEADLINE_MS } from '../../src/cli/shutdown.js';
import { parseNetworkConfig, parseCompose, prepareNetwork, ComposeError } from '../../src/launcher/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMPOSE = join(ROOT, 'docker-compose.yml');

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .map((f) => join(ROOT, dir, f));
}

describe('example configs', () => {
  const files = [...yamlFiles('network-config'), ...yamlFiles('deploy/compose')];

  it('the expected examples exist', () => {
    const names = files.map((f) => f.slice(ROOT.length + 1));
    expect(names).toEqual(expect.arrayContaining(['network-config/witness.yaml', 'network-config/local-network.yaml', 'network-config/public-witness.yaml', 'deploy/compose/public-witness.yaml']));
  });

  it.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s parses with its validator and starts with explanatory comments', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').slice(0, 2).every((l) => l.startsWith('#'))).toBe(true);
    const raw = parse(text) as Record<string, unknown>;
    if ('witnesses' in raw && Array.isArray(raw.witnesses) && !('name' in raw)) {
      // The launcher's network format.
      const net = parseNetworkConfig(text, file);
      expect(net.witnesses.length).toBeGreaterThan(0);
    } else {
      const c = parseConfig(text, file);
      expect(c.logs.length + (c.logList ? 1 : 0)).toBeGreaterThan(0);
      if (c.logList?.kind === 'file') {
        // A list file it names must exist and parse (logs/v0).
        const path = hostPath(c.logList.path);
        expect(existsSync(path), path).toBe(true);
        expect(parseLogList(readFileSync(path, 'utf8')).entries.length).toBeGreaterThan(0);
      }
    }
  });

  it('the public witness follows Rekor v1, sumdb and a tiled log by pulling, plus a logs/v0 list', () => {
    const c = loadConfig(join(ROOT, 'network-config/public-witness.yaml'));
    const types = c.logs.map((l) => (l.pull as { type: string }).type).sort();
    expect(types).toEqual(['rekor-v1', 'sumdb', 'tiles']);
    expect(c.logList).toEqual({ kind: 'file', path: join(ROOT, 'network-config/public-logs.txt') });
    expect(c.p2p?.listen).toEqual(['/ip4/0.0.0.0/tcp/7381']);
    const list = parseLogList(readFileSync(join(ROOT, 'network-config/public-logs.txt'), 'utf8'));
    expect(list.entries.map((e) => e.origin)).toEqual(['log2025-1.rekor.sigstore.dev', 'go.sum database tree', 'Armory Drive Prod 2']);
  });

  it('the container variant of the public witness follows the same logs', () => {
    const local = loadConfig(join(ROOT, 'network-config/public-witness.yaml'));
    const docker = parseConfig(readFileSync(join(ROOT, 'deploy/compose/public-witness.yaml'), 'utf8'), join(ROOT, 'deploy/compose/public-witness.yaml'));
    const shape = (logs: typeof local.logs) => logs.map((l) => ({ origin: l.origin, vkeys: l.vkeys, pull: l.pull }));
    expect(shape(docker.logs)).toEqual(shape(local.logs));
    expect(docker.keyFiles).toEqual(['/var/lib/gossip-witness/witness.key']);
    expect(docker.logList).toEqual({ kind: 'file', path: '/etc/gossip-witness/public-logs.txt' });
  });

  it('a broken config is refused (the check above can fail)', () => {
    const text = readFileSync(join(ROOT, 'network-config/public-witness.yaml'), 'utf8').replace('listen: 127.0.0.1:7380', 'listen: nowhere');
    expect(() => parseConfig(text, 'x.yaml')).toThrow(/http\.listen/);
  });
});

describe('docker-compose.yml', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The schema names draft-07 by its https URL; ajv registers draft-07 under http://...#.
  ajv.addMetaSchema({ ...draft7, $id: 'https://json-schema.org/draft-07/schema' });
  const validate = ajv.compile(schema);
  // Compose resolves YAML merge keys (<<) before validating; so does the yaml package with merge.
  const doc = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as Record<string, unknown>;

  it('is valid against the compose specification JSON schema', () => {
    const ok = validate(doc);
    expect(ok, JSON.stringify(validate.errors, null, 1)).toBe(true);
  });

  it('the schema check rejects a broken compose file', () => {
    const services = doc.services as Record<string, Record<string, unknown>>;
    const broken = { ...doc, services: { ...services, w1: { ...services.w1, restart: 42, helthcheck: {} } } };
    expect(validate(broken)).toBe(false);
  });

  it('publishes only HTTP ports, only on 127.0.0.1, for the local network', () => {
    const services = doc.services as Record<string, { ports?: string[]; profiles?: string[]; healthcheck?: { disable?: boolean } }>;
    for (const [name, s] of Object.entries(services)) {
      if (s.profiles) continue;
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:(7380|7390)$/);
    }
  });

  it('is the topology of network-config/local-network.yaml', () => {
    const t = parseCompose(readFileSync(COMPOSE, 'utf8'), COMPOSE);
    expect(t.networkFile).toBe(join(ROOT, 'network-config/local-network.yaml'));
    expect(t.services).toEqual({ init: 'init', logs: ['log1'], witnesses: ['w1', 'w2', 'w3'] });
    expect(t.network).toEqual(parseNetworkConfig(readFileSync(t.networkFile, 'utf8')));
  });

  it.each([
    ['a witness service missing', (s: string) => s.replace(/\n  w3:\n[\s\S]*?(?=\n  # A witness following)/, '\n'), /no service for witness w3/],
    ['the log pushing to the wrong branch', (s: string) => s.replace('--fork-witness\n      - http://w3:7380', '--witness\n      - http://w3:7380'), /--fork-witness must be exactly http:\/\/w3:7380/],
    ['another fork size', (s: string) => s.replace('- "8"', '- "9"'), /--fork-at must be 8/],
    ['a witness on a volume init does not prepare', (s: string) => s.replace('- w2:/var/lib/gossip-witness/w2\n    ports', '- other:/var/lib/gossip-witness/w2\n    ports'), /w2: init does not prepare its volume other/],
  ])('drift is an error: %s', (_what, mutate, message) => {
    const text = mutate(readFileSync(COMPOSE, 'utf8'));
    expect(text).not.toBe(readFileSync(COMPOSE, 'utf8'));
    expect(() => parseCompose(text, COMPOSE)).toThrow(ComposeError);
    expect(() => parseCompose(text, COMPOSE)).toThrow(message);
  });

  it('the init step writes valid witness configs that dial peers by service name, and keeps keys on a second run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-compose-init-'));
    try {
      const t = parseCompose(readFileSync(COMPOSE, 'utf8'), COMPOSE);
      const first = await prepareNetwork({ network: t.network, dir, layout: 'compose' });
      for (const w of first.witnesses) {
        const c = loadConfig(w.configFile);
        expect(c.http).toMatchObject({ host: '0.0.0.0', port: 7380 });
        expect(c.p2p!.listen).toEqual(['/ip4/0.0.0.0/tcp/7381']);
        expect(c.p2p!.allowLoopback).toBe(false);
        for (const b of c.p2p!.bootstrap) expect(b).toMatch(/^\/dns4\/w[123]\/tcp\/7381\/p2p\/12D3KooW\w+$/);
        // One tracked entry per key: a dual-key witness (w2) is listed once per vkey, under its name.
        expect(c.witnesses!.map((x) => [x.name, x.vkey])).toEqual(first.witnesses.filter((o) => o !== w).flatMap((o) => o.vkeys.map((v) => [o.name, v])));
        expect(c.logs.map((l) => l.vkeys)).toEqual([[first.logs[0].key.vkey]]);
      }
      expect(first.logs[0].pushTo.map((p) => `${p.url} ${p.branch}`)).toEqual(['http://w1:7380 a', 'http://w2:7380 a', 'http://w3:7380 b']);
      const second = await prepareNetwork({ network: t.network, dir, layout: 'compose' });
      expect(second.witnesses.map((w) => [w.key.vkey, w.peerId])).toEqual(first.witnesses.map((w) => [w.key.vkey, w.peerId]));
      expect(second.logs[0].key.vkey).toBe(first.logs[0].key.vkey);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the systemd unit', () => {
  const unit = readFileSync(join(ROOT, 'deploy/systemd/gossip-witness.service'), 'utf8');

  it('is hardened, keeps state, restarts on failure and allows a graceful stop', () => {
    for (const line of ['DynamicUser=yes', 'StateDirectory=gossip-witness', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'Restart=on-failure', 'RestartPreventExitStatus=2', 'KillSignal=SIGTERM'])
      expect(unit.split('\n')).toContain(line);
    // Longer than the process's own shutdown deadline (src/cli/shutdown.ts), so systemd never SIGKILLs a clean stop.
    expect(Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1]) * 1000).toBeGreaterThan(SHUTDOWN_DEADLINE_MS);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m); // V8's JIT would crash
    // Memory (issue 14): the young-generation cap ships where operators run serve.
    expect(unit.split('\n')).toContain('Environment=NODE_OPTIONS=--max-semi-space-size=2');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n')).toContain('ENV NODE_OPTIONS=--max-semi-space-size=2');
    // and glibc's mmap threshold (V8's 32 KiB compiler-zone blocks leave no holes in malloc's heaps).
    expect(unit.split('\n')).toContain('Environment=GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n')).toContain('ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768');
  });

  it('passes systemd-analyze verify (where systemd-analyze exists)', (ctx) => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
    if (which.status !== 0) ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'gw-unit-'));
    try {
      // The binary is not installed here: point Exec lines at /bin/true to verify the rest.
      const file = join(dir, 'gossip-witness.service');
      writeFileSync(file, unit.replaceAll('/usr/bin/gossip-witness', '/bin/true'));
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr.trim()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the container entrypoint', () => {
  it('creates the witness key named in the config on first start, prints its vkey, then runs the command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-entry-'));
    try {
      const bin = join(dir, 'bin');
      // A stand-in for the image's /usr/local/bin/gossip-witness: the CLI from source.
      mkdirSync(bin);
      const shim = join(bin, 'gossip-witness');
      writeExecutable(shim, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(ROOT, 'src/cli/main.ts')}" "$@"\n`);
      const cfg = join(dir, 'witness.yaml');
      writeExecutable(cfg, 'name: witness.example/w9\nkey: w9.key\ndata: w9-data\nlogs:\n  - { origin: example.com/log, vkeys: ["PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"] }\n');
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
      // `serve --config X --print-vkey` as the command: the entrypoint's first-start step, then the command itself.
      const r = spawnSync('sh', [join(ROOT, 'deploy/docker/entrypoint.sh'), 'serve', '--config', cfg, '--print-vkey'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(dir, 'w9.key'))).toBe(true);
      const vkey = r.stdout.trim();
      expect(vkey).toMatch(/^witness\.example\/w9\+[0-9a-f]{8}\+B/);
      expect(r.stderr).toContain('publish these');
      expect(r.stderr).toContain(vkey);
      // Second start: the same key.
      const again = spawnSync('sh', [join(ROOT, 'deploy/docker/entrypoint.sh'), 'serve', '--config', cfg, '--print-vkey'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
      expect(again.stdout.trim()).toBe(vkey);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** A path inside a container, mapped to the repository file docker-compose.yml bind-mounts there. */
function hostPath(path: string): string {
  if (!path.startsWith('/etc/gossip-witness/')) return path;
  const doc = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as { services: Record<string, { volumes?: string[] }> };
  for (const s of Object.values(doc.services)) {
    for (const v of s.volumes ?? []) {
      const [source, target] = v.split(':');
      if (target === path && source.startsWith('.')) return join(ROOT, source);
    }
  }
  return path;
}

function writeExecutable(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o755 });
}
