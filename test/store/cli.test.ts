// `gossip-witness store verify` and `store import` on real data folders made by the witness core.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { LevelStore } from '../../src/store/level.js';
import { Witness, type WitnessLog } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, parseVkey, cosigner } from '../../src/note/index.js';
import { readKeyFile, writeKeyFile } from '../../src/keys/keyfile.js';
import { generateKey } from '../../src/note/keys.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const enc = (s: string) => new TextEncoder().encode(s);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A witness folder with log A at size 30 (cosigned notes of 20 and 30 kept) and its config. */
async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'gossip-witness-store-cli-'));
  dirs.push(dir);
  const log = new TestLog('cli.example/log');
  writeKeyFile(join(dir, 'w.key'), generateKey('cli.example/witness'));
  const key = readKeyFile(join(dir, 'w.key'));
  const config = join(dir, 'w.yaml');
  writeFileSync(config, `name: cli.example/witness\nkey: w.key\ndata: data\nlogs:\n  - { origin: ${log.origin}, vkeys: [ "${log.key.vkey}" ] }\n`);
  const store = await LevelStore.open(join(dir, 'data'));
  const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
  const witness = new Witness({ store, logs, cosigners: [cosigner(key)] });
  const cosigned = new Map<number, string>();
  for (let n = 1; n <= 30; n++) {
    const old = log.tree.size;
    log.append(1);
    const r = await witness.addCheckpoint(enc(formatAddCheckpointBody(old, old === 0n ? [] : log.tree.consistencyProof(old, log.tree.size), log.checkpoint())));
    if (r.kind !== 'cosigned') throw new Error(r.kind);
    cosigned.set(n, log.checkpoint() + r.lines);
  }
  await store.close();
  return { dir, data: join(dir, 'data'), config, log, cosigned };
}

describe('gossip-witness store verify / import', () => {
  it('verify: a sound folder exits 0 with a summary; a damaged one exits 1 listing the problems and the way out', async () => {
    const { data, config, dir } = await setup();
    const ok = cli(['store', 'verify', '--config', config]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^sound: data directory .* 1 logs \(cli\.example\/log=30\)/);
    expect(cli(['store', 'verify', '--data', data]).code).toBe(0);
    // verify changes nothing: the files are byte-identical afterwards.
    const before = readdirSync(data).map((f) => [f, readFileSync(join(data, f)).toString('base64')]);
    cli(['store', 'verify', '--data', data]);
    expect(readdirSync(data).map((f) => [f, readFileSync(join(data, f)).toString('base64')])).toEqual(before);
    // Cut the newest LevelDB log in half: the store is behind what it acknowledged.
    const logFile = readdirSync(data).filter((f) => f.endsWith('.log')).sort().pop()!;
    truncateSync(join(data, logFile), Math.floor(statSync(join(data, logFile)).size / 2));
    const bad = cli(['store', 'verify', '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is NOT sound/);
    expect(bad.stderr).toMatch(/below the acknowledged size 30/);
    expect(bad.stderr).toMatch(/When things break/);
    expect(cli(['store', 'verify']).code).toBe(2);
    expect(cli(['store', 'verify', '--data', join(dir, 'nope')]).code).toBe(1);
  });

  it('import: moves a damaged log forward to a checkpoint this witness cosigned, and refuses anything else', async () => {
    const { data, config, dir, cosigned, log } = await setup();
    const logFile = readdirSync(data).filter((f) => f.endsWith('.log')).sort().pop()!;
    truncateSync(join(data, logFile), Math.floor(statSync(join(data, logFile)).size / 2));
    const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    // Below the acknowledged size: refused.
    const r20 = cli(['store', 'import', '--config', config, '--checkpoint', write('c20', cosigned.get(20)!)]);
    expect(r20.code).toBe(1);
    expect(r20.stderr).toMatch(/acknowledged size 30/);
    // Not cosigned by us: refused.
    const r30plain = cli(['store', 'import', '--config', config, '--checkpoint', write('p30', log.checkpoint(30n))]);
    expect(r30plain.code).toBe(1);
    expect(r30plain.stderr).toMatch(/no valid cosignature by this witness/);
    // The newest one we cosigned: accepted, and the folder is sound again at 30.
    const ok = cli(['store', 'import', '--config', config, '--checkpoint', write('c30', cosigned.get(30)!)]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/imported: log cli\.example\/log at size 30/);
    const v = cli(['store', 'verify', '--config', config]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/cli\.example\/log=30/);
    // And again: the same size and root is accepted (an import a crash cut short is finished by
    // running it again); an older one is still refused.
    expect(cli(['store', 'import', '--config', config, '--checkpoint', join(dir, 'c30')]).code).toBe(0);
    expect(cli(['store', 'import', '--config', config, '--checkpoint', join(dir, 'c20')]).code).toBe(1);
  });

  it('serve refuses to start on a damaged folder, naming the damage and the way out', async () => {
    const { data, config } = await setup();
    const logFile = readdirSync(data).filter((f) => f.endsWith('.log')).sort().pop()!;
    truncateSync(join(data, logFile), Math.floor(statSync(join(data, logFile)).size / 2));
    const r = cli(['serve', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is damaged: .*below the acknowledged size 30/);
    expect(r.stderr).toMatch(/store import/);
  });

  it('import into an empty folder creates a store holding just that state', async () => {
    const { data, config, dir, cosigned } = await setup();
    rmSync(data, { recursive: true });
    writeFileSync(join(dir, 'c30'), cosigned.get(30)!);
    const ok = cli(['store', 'import', '--config', config, '--checkpoint', join(dir, 'c30')]);
    expect(ok.code).toBe(0);
    const store = await LevelStore.open(data);
    expect((await store.getState('cli.example/log'))?.size).toBe(30n);
    await store.close();
  });
});
