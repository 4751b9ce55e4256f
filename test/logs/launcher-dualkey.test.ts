// The launcher's network config with a dual-key witness (`keyType: [ed25519, ml-dsa-44]`, issue
// 14): parsing and validation with paths; prepareNetwork writes one key file per type (witness.key
// kept for the single-key cases and for the key a folder already holds), lists both in the
// witness config's `key:` and both vkeys wherever the witness is tracked or pushed to; and the
// client policy (clientPolicy) puts both keys in one 1-of-2 group, so the witness counts once.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientPolicy, parseNetworkConfig, prepareNetwork, witnessKeyTypes, NetworkConfigError } from '../../src/launcher/index.js';
import { loadConfig } from '../../src/config.js';
import { loadWitnessKeys, witnessCosigner } from '../../src/node/witness-node.js';
import { readWitnessKeyFile, witnessVkey, writeKeyFile } from '../../src/keys/keyfile.js';
import { generateMlDsa44Key } from '../../src/note/mldsa-keys.js';
import { generateKey, parseNote, parseVkey, signatureLines, signNote } from '../../src/note/index.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import type { Ed25519SignerKey, Signer } from '../../src/note/index.js';

const NETWORK = `
logs:
  - { name: log1, interval: 100ms }
witnesses:
  - { name: w1 }
  - { name: w2, keyType: [ed25519, ml-dsa-44] }
  - { name: w3, keyType: ml-dsa-44 }
`;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-launch-dual-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The network file with w2's keyType replaced. */
const withW2 = (keyType: string) => NETWORK.replace('keyType: [ed25519, ml-dsa-44]', `keyType: ${keyType}`);

describe('launcher: a witness with keyType [ed25519, ml-dsa-44]', () => {
  it('parses a list of key types (a one-element list is that type alone)', () => {
    const n = parseNetworkConfig(NETWORK);
    expect(n.witnesses.map((w) => w.keyType)).toEqual([undefined, ['ed25519', 'ml-dsa-44'], 'ml-dsa-44']);
    expect(n.witnesses.map((w) => witnessKeyTypes(w))).toEqual([['ed25519'], ['ed25519', 'ml-dsa-44'], ['ml-dsa-44']]);
    expect(parseNetworkConfig(withW2('[ml-dsa-44, ed25519]')).witnesses[1].keyType).toEqual(['ml-dsa-44', 'ed25519']);
    expect(parseNetworkConfig(withW2('[ml-dsa-44]')).witnesses[1].keyType).toBe('ml-dsa-44');
    // Block style too.
    const block = 'logs:\n  - name: log1\nwitnesses:\n  - name: w2\n    keyType:\n      - ml-dsa-44\n      - ed25519\n';
    expect(parseNetworkConfig(block).witnesses[0].keyType).toEqual(['ml-dsa-44', 'ed25519']);
  });

  it.each([
    ['an empty list', '[]', /^network net\.yaml: witnesses\.1\.keyType: an empty list: list at least one key type \(ed25519, ml-dsa-44\)$/],
    ['a duplicate', '[ed25519, ed25519]', /^network net\.yaml: witnesses\.1\.keyType\.1: duplicate key type ed25519 \(a witness holds at most one key of each type\)$/],
    ['an unknown type in the list', '[ed25519, rsa]', /^network net\.yaml: witnesses\.1\.keyType\.1: must be ed25519 or ml-dsa-44$/],
    ['a non-string in the list', '[ml-dsa-44, 7]', /^network net\.yaml: witnesses\.1\.keyType\.1: must be ed25519 or ml-dsa-44$/],
    ['an unknown type', 'rsa', /^network net\.yaml: witnesses\.1\.keyType: must be ed25519 or ml-dsa-44, or a list of them/],
    ['a mapping', '{ a: 1 }', /^network net\.yaml: witnesses\.1\.keyType: must be ed25519 or ml-dsa-44, or a list of them/],
  ])('refuses %s with its path', (_what, keyType, message) => {
    expect(() => parseNetworkConfig(withW2(keyType), 'net.yaml')).toThrow(NetworkConfigError);
    expect(() => parseNetworkConfig(withW2(keyType), 'net.yaml')).toThrow(message);
  });

  it('reports every bad entry of the list', () => {
    expect(() => parseNetworkConfig(withW2('[rsa, ed25519, ed25519]'), 'net.yaml')).toThrow(
      'network net.yaml: witnesses.1.keyType.0: must be ed25519 or ml-dsa-44\nnetwork net.yaml: witnesses.1.keyType.2: duplicate key type ed25519 (a witness holds at most one key of each type)',
    );
  });

  it('(the network file) names every unknown key of a mapping in one problem, and refuses a list where a mapping belongs', () => {
    let message = '';
    try {
      parseNetworkConfig('logs: [{ name: log1, forkat: 8, intervall: 1s }]\nwitnesses: [{ name: w1, gossip: [] }]\n', 'net.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(NetworkConfigError);
      message = (e as Error).message;
    }
    expect(message).toBe('network net.yaml: logs.0: Unrecognized keys: "forkat", "intervall"\nnetwork net.yaml: witnesses.0.gossip: must be a mapping like { version: 2, meshDegree: 3 }');
  });

  it('prepareNetwork writes a key file per type, lists both in key:, and every vkey list carries both; a second run keeps them', async () => {
    const dir = tempDir();
    const first = await prepareNetwork({ network: parseNetworkConfig(NETWORK), dir });
    const [w1, w2, w3] = first.witnesses;
    // Single-key witnesses keep witness.key whatever its type.
    expect(w1.keyFiles).toEqual([join(dir, 'w1', 'witness.key')]);
    expect(w3.keyFiles).toEqual([join(dir, 'w3', 'witness.key')]);
    expect(w2.keyFiles).toEqual([join(dir, 'w2', 'witness.key'), join(dir, 'w2', 'witness-pq.key')]);
    expect(w2.vkeys.map((v) => parseVkey(v).type)).toEqual([0x04, 0x06]);
    expect(w2.vkeys.map((v) => parseVkey(v).name)).toEqual(['w2.example.local', 'w2.example.local']);
    expect(w2.vkey).toBe(w2.vkeys[0]);
    expect([w1.vkeys, w3.vkeys].map((v) => v.map((x) => parseVkey(x).type))).toEqual([[0x04], [0x06]]);
    for (const [j, f] of w2.keyFiles.entries()) {
      expect(statSync(f).mode & 0o777).toBe(0o600);
      expect(witnessVkey(readWitnessKeyFile(f))).toBe(w2.vkeys[j]);
    }

    // w2's config: `key:` lists both files, in keyType order; the node loads both keys.
    expect(readFileSync(w2.configFile, 'utf8')).toContain('\nkey: [witness.key, witness-pq.key]\n');
    expect(readFileSync(w1.configFile, 'utf8')).toContain('\nkey: witness.key\n');
    const c2 = loadConfig(w2.configFile);
    expect(c2.keyFiles).toEqual(w2.keyFiles);
    const loaded = loadWitnessKeys(c2);
    expect(loaded.created).toEqual([]);
    expect(loaded.keys.map(witnessVkey)).toEqual(w2.vkeys);

    // The others track both of w2's keys (two entries of one name); w2 tracks w1 and w3.
    for (const w of [w1, w3]) {
      const c = loadConfig(w.configFile);
      expect(c.witnesses!.filter((x) => x.name === 'w2').map((x) => x.vkey)).toEqual(w2.vkeys);
      expect(c.witnesses!.map((x) => x.vkey)).toEqual(first.witnesses.filter((o) => o !== w).flatMap((o) => o.vkeys));
    }
    expect(c2.witnesses!.map((x) => [x.name, x.vkey])).toEqual([['w1', w1.vkey], ['w3', w3.vkey]]);

    // The log pushes to w2 knowing both vkeys.
    expect(first.logs[0].pushTo.map((p) => [p.witness, p.vkeys])).toEqual([['w1', w1.vkeys], ['w2', w2.vkeys], ['w3', w3.vkeys]]);

    const second = await prepareNetwork({ network: parseNetworkConfig(NETWORK), dir });
    expect(second.witnesses.map((w) => w.vkeys)).toEqual(first.witnesses.map((w) => w.vkeys));
    expect(second.witnesses.map((w) => w.keyFiles)).toEqual(first.witnesses.map((w) => w.keyFiles));
  });

  it('a folder whose witness.key already holds one of the types keeps that key when the witness gains the other', async () => {
    // w3 was ML-DSA-44 only (its key in witness.key); it becomes [ed25519, ml-dsa-44].
    const dir = tempDir();
    const before = await prepareNetwork({ network: parseNetworkConfig(NETWORK), dir });
    const pq = before.witnesses[2].vkey;
    const after = await prepareNetwork({ network: parseNetworkConfig(NETWORK.replace('{ name: w3, keyType: ml-dsa-44 }', '{ name: w3, keyType: [ed25519, ml-dsa-44] }')), dir });
    const w3 = after.witnesses[2];
    expect(w3.keyFiles).toEqual([join(dir, 'w3', 'witness-ed25519.key'), join(dir, 'w3', 'witness.key')]);
    expect(w3.vkeys[1]).toBe(pq);
    expect(parseVkey(w3.vkeys[0]).type).toBe(0x04);
    expect(loadConfig(w3.configFile).keyFiles).toEqual(w3.keyFiles);

    // An Ed25519-only witness gaining ML-DSA-44 keeps its Ed25519 key in witness.key.
    const ed = before.witnesses[0].vkey;
    const w1 = (await prepareNetwork({ network: parseNetworkConfig(NETWORK.replace('{ name: w1 }', '{ name: w1, keyType: [ml-dsa-44, ed25519] }')), dir })).witnesses[0];
    expect(w1.keyFiles).toEqual([join(dir, 'w1', 'witness-pq.key'), join(dir, 'w1', 'witness.key')]);
    expect(w1.vkeys[1]).toBe(ed);
  });

  it('a key file of the wrong type in the extra slot is an error, not a silent new key', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'w2'), { recursive: true });
    writeKeyFile(join(dir, 'w2', 'witness-pq.key'), generateKey('w2.example.local'));
    await expect(prepareNetwork({ network: parseNetworkConfig(NETWORK), dir })).rejects.toThrow(/witness-pq\.key/);
    // A key under another name in witness.key is refused as for a single key.
    const dir2 = tempDir();
    mkdirSync(join(dir2, 'w2'), { recursive: true });
    writeKeyFile(join(dir2, 'w2', 'witness.key'), generateMlDsa44Key('other.example'));
    await expect(prepareNetwork({ network: parseNetworkConfig(NETWORK), dir: dir2 })).rejects.toThrow(/holds a key named other\.example, but the configured name is w2\.example\.local/);
  });

  it('clientPolicy: both keys of w2 in one 1-of-2 group, counted once in the 2-of-3', async () => {
    const dir = tempDir();
    const net = await prepareNetwork({ network: parseNetworkConfig(NETWORK), dir });
    const log = net.logs[0];
    const cp = clientPolicy({ log: { vkey: log.key.vkey, url: 'http://127.0.0.1:1' }, witnesses: net.witnesses.map((w) => ({ name: w.name, vkeys: w.vkeys })) });
    const [w1, w2, w3] = net.witnesses;
    expect(cp.text).toBe(
      [
        `log ${log.key.vkey} http://127.0.0.1:1`,
        `witness w1 ${w1.vkey}`,
        `witness w2-ed25519 ${w2.vkeys[0]}`,
        `witness w2-ml-dsa-44 ${w2.vkeys[1]}`,
        'group w2 any w2-ed25519 w2-ml-dsa-44',
        `witness w3 ${w3.vkey}`,
        'group majority 2 w1 w2 w3',
        'quorum majority',
        '',
      ].join('\n'),
    );
    expect(cp.quorum).toEqual({ name: 'majority', k: 2, n: 3 });
    expect(cp.members.map((m) => [m.name, m.keys.map((x) => x.name)])).toEqual([['w1', ['w1']], ['w2', ['w2-ed25519', 'w2-ml-dsa-44']], ['w3', ['w3']]]);
    const policy = parsePolicy(cp.text);
    expect(policy.groups.map((g) => [g.name, g.k, g.members])).toEqual([['w2', 1, ['w2-ed25519', 'w2-ml-dsa-44']], ['majority', 2, ['w1', 'w2', 'w3']]]);

    // Real signatures with the prepared keys: the log's, then the witnesses' cosignature lines.
    const text = formatCheckpoint({ origin: log.origin, size: 1n, root: new Uint8Array(32).fill(7), extensions: [] });
    expect(parseVkey(log.key.vkey).type).toBe(0x01); // an Ed25519 log
    const signed = signNote(text, [log.key as Ed25519SignerKey]);
    const cosign = (ws: Signer[]) => signed + signatureLines(parseNote(signed).textBytes, ws);
    const signers = (w: (typeof net.witnesses)[number]) => w.keys.map((k) => witnessCosigner(k));
    // w2 alone, with both its lines: one operator, one vote of two needed.
    const alone = verifyCosignedCheckpoint(cosign(signers(w2)), policy, { exhaustive: true });
    expect(alone).toMatchObject({ ok: false, code: 'quorum' });
    expect(alone.witnesses.filter((w) => w.status === 'verified').map((w) => w.name)).toEqual(['w2-ed25519', 'w2-ml-dsa-44']);
    expect(alone.groups.find((g) => g.name === 'majority')!.satisfiedMembers).toEqual(['w2']);
    // w2 (either key suffices) and w1: two operators.
    for (const w2Signers of [signers(w2), [witnessCosigner(w2.keys[1])]]) {
      const v = verifyCosignedCheckpoint(cosign([...signers(w1), ...w2Signers]), policy, { exhaustive: true });
      expect(v, v.reason).toMatchObject({ ok: true });
      expect(v.groups.find((g) => g.name === 'majority')!.satisfiedMembers).toEqual(['w1', 'w2']);
    }
    // The wrong policy (w2's keys as two witnesses) would accept w2 alone: what the group prevents.
    const wrong = parsePolicy(cp.text.replace('group w2 any w2-ed25519 w2-ml-dsa-44\n', '').replace('group majority 2 w1 w2 w3', 'group majority 2 w1 w2-ed25519 w2-ml-dsa-44 w3'));
    expect(verifyCosignedCheckpoint(cosign(signers(w2)), wrong)).toMatchObject({ ok: true });
  });

  it('clientPolicy: single-key witnesses keep their names; names are never reused', () => {
    const ed = generateKey('a.example').cosignatureVkey;
    expect(() => clientPolicy({ log: { vkey: ed }, witnesses: [] })).toThrow(/at least one witness/);
    expect(() => clientPolicy({ log: { vkey: ed }, witnesses: [{ name: 'w1', vkeys: [ed] }], k: 2 })).toThrow(/quorum 2 of 1/);
    // Names a witness already has are never reused: the quorum group and the keys get a suffix.
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => generateKey(`${x}.example`).cosignatureVkey);
    const cp = clientPolicy({ log: { vkey: generateKey('log.example').vkey }, witnesses: [{ name: 'majority', vkeys: [a] }, { name: 'x-ed25519', vkeys: [b] }, { name: 'x', vkeys: [c, d] }], k: 3 });
    expect(cp.text.split('\n').filter((l) => l.startsWith('group') || l.startsWith('quorum'))).toEqual(['group x any x-ed25519-2 x-ed25519-3', 'group majority-2 3 majority x-ed25519 x', 'quorum majority-2']);
    expect(cp.quorum).toEqual({ name: 'majority-2', k: 3, n: 3 });
    expect(() => parsePolicy(cp.text)).not.toThrow();
  });
});
