// A witness node whose `key:` lists an Ed25519 and an ML-DSA-44 key file (issue 14): both keys
// load (type told by content), a missing file is still created as Ed25519, every key's line is
// answered, stored, served (monitoring GET, status page, /status.json), sign-subtree works over
// HTTP; `serve --print-vkey` prints every vkey and `store verify` checks both keys' lines.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode } from '../../src/node/witness-node.js';
import { readWitnessKeyFile, witnessVkey, writeKeyFile } from '../../src/keys/keyfile.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { openNote, parseCosignatureVkey, parseNote, parseVkey } from '../../src/note/index.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { formatSignSubtreeBody } from '../../src/witness/subtree-request.js';
import { subtreeConsistencyProof, subtreeHash } from '../../src/merkle/subtree.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NAME = 'witness.example/pq';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function folder(log: TestLog) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-mldsa-node-'));
  dirs.push(dir);
  const pq = mlDsa44KeyFromSeed(NAME, new Uint8Array(32).fill(21));
  writeKeyFile(join(dir, 'pq.key'), pq);
  const yaml = `name: ${NAME}\nkey: [ed.key, pq.key]\ndata: data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: ${log.origin}, vkeys: ["${log.key.vkey}"] }\n`;
  writeFileSync(join(dir, 'w.yaml'), yaml);
  return { dir, pq, config: join(dir, 'w.yaml'), yaml };
}

describe('a witness node with an Ed25519 and an ML-DSA-44 key', () => {
  it('cosigns with both, stores and serves both lines, and answers sign-subtree', async () => {
    const log = new TestLog('example.com/log').append(16);
    const f = folder(log);
    const node = await startWitnessNode(parseConfig(f.yaml, f.config));
    try {
      // The missing ed.key was created as Ed25519; pq.key was read as ML-DSA-44.
      expect(existsSync(join(f.dir, 'ed.key'))).toBe(true);
      const ed = readWitnessKeyFile(join(f.dir, 'ed.key'));
      expect('cosignatureVkey' in ed).toBe(true);
      expect(node.vkeys).toEqual([witnessVkey(ed), f.pq.vkey]);
      const verifiers = node.vkeys.map((v) => parseCosignatureVkey(v));
      const r = await fetch(`${node.url}/add-checkpoint`, { method: 'POST', body: formatAddCheckpointBody(0n, [], log.checkpoint()) });
      expect(r.status).toBe(200);
      const lines = await r.text();
      const text = parseNote(log.checkpoint()).text;
      expect(openNote(text + '\n' + lines, verifiers).verified).toHaveLength(2);
      // Monitoring GET: the log's line and both of ours.
      const hash = createHash('sha256').update(log.origin).digest('hex');
      const served = await (await fetch(`${node.url}/${hash}/checkpoint`)).text();
      expect(openNote(served, [parseVkey(log.key.vkey), ...verifiers]).verified).toHaveLength(3);
      // Status page and /status.json list every key.
      const status = (await (await fetch(`${node.url}/status.json`)).json()) as { node: { vkeys: string[] } };
      expect(status.node.vkeys).toEqual(node.vkeys);
      const page = await (await fetch(`${node.url}/`)).text();
      expect(page).toContain('ML-DSA-44 (subtree/v1)');
      expect(page).toContain('Ed25519 (cosignature/v1)');
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      expect(metrics).toContain(`witness_key_info{name="${NAME}",key_id="${node.vkeys[0].split('+')[1]}",type="ed25519"} 1`);
      expect(metrics).toContain(`witness_key_info{name="${NAME}",key_id="${node.vkeys[1].split('+')[1]}",type="ml-dsa-44"} 1`);
      // sign-subtree with the cosigned checkpoint as reference.
      const body = formatSignSubtreeBody(8n, 16n, subtreeHash(8n, 16n, log.tree.hasher), subtreeConsistencyProof(8n, 16n, 16n, log.tree.hasher), text + '\n' + lines);
      const s = await fetch(`${node.url}/sign-subtree`, { method: 'POST', body });
      expect(s.status).toBe(200);
      const sig = parseNote(`x\n\n${await s.text()}`).signatures;
      expect(sig).toHaveLength(1);
      expect(sig[0].keyId).toBe(f.pq.keyId);
    } finally {
      await node.close();
    }
    // Offline: `store verify` checks both keys' lines; `serve --print-vkey` prints both vkeys.
    const verify = cli(['store', 'verify', '--config', f.config]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    const printed = cli(['serve', '--config', f.config, '--print-vkey']);
    expect(printed.code).toBe(0);
    expect(printed.stdout.trim().split('\n')).toEqual(node.vkeys);
    // An ML-DSA-44 key file is read by content, never rewritten.
    expect(readFileSync(join(f.dir, 'pq.key'), 'utf8')).toBe(f.pq.skey + '\n');
  });

  it('takes the names MTC uses (oid/…) for the witness and its logs', () => {
    const log = new TestLog('oid/1.3.6.1.4.1.44363.47.1');
    const c = parseConfig(`name: oid/1.3.6.1.4.1.44363.47.2\nkey: [w.key, w-pq.key]\ndata: d\nlogs:\n  - { origin: ${log.origin}, vkeys: ["${log.key.vkey}"] }\n`, join(tmpdir(), 'oid.yaml'));
    expect(c.name).toBe('oid/1.3.6.1.4.1.44363.47.2');
    expect(c.logs.map((l) => l.origin)).toEqual([log.origin]);
    expect(c.keyFiles).toHaveLength(2);
  });
});
