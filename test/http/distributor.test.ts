// The distributor's checkpoint.N counts witnesses, not lines: a witness with an Ed25519 and an
// ML-DSA-44 key (two lines on one checkpoint) is one cosigner.
import { afterEach, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { distributorLogId, pickCheckpoint, registerDistributorRoutes, type HeldCheckpoint } from '../../src/http/distributor.js';
import { keyLabel, type SignatureLine } from '../../src/note/note.js';

const line = (name: string, keyId: number, pq = false): SignatureLine => ({ name, keyId, base64: '', sig: new Uint8Array(pq ? 2428 : 72).fill(keyId & 0xff) });
const held = (size: bigint, cosignatures: SignatureLine[]): HeldCheckpoint => ({ size, text: `example.com/log\n${size}\n${'A'.repeat(43)}=\n`, logLines: [], cosignatures });

// w2 has two keys under one name; w1 and w3 one each.
const groups = new Map([
  [keyLabel('w1.example', 1), 'w1'],
  [keyLabel('w2.example', 2), 'w2'],
  [keyLabel('w2.example', 3), 'w2'],
  [keyLabel('w3.example', 4), 'w3'],
]);
const witnessOf = (l: string) => groups.get(l) ?? l;
const dualOnly = held(9n, [line('w2.example', 2), line('w2.example', 3, true)]);
const twoWitnesses = held(8n, [line('w1.example', 1), line('w3.example', 4)]);

describe('checkpoint.N counts witnesses', () => {
  it('one witness with two keys does not make a checkpoint cosigned by two', () => {
    expect(pickCheckpoint([dualOnly, twoWitnesses], 2, witnessOf)?.size).toBe(8n);
    expect(pickCheckpoint([dualOnly, twoWitnesses], 1, witnessOf)?.size).toBe(9n);
    expect(pickCheckpoint([dualOnly, twoWitnesses], 3, witnessOf)).toBeUndefined();
    // Without a grouping every key is its own witness (the label).
    expect(pickCheckpoint([dualOnly, twoWitnesses], 2)?.size).toBe(9n);
  });

  it('among equal sizes the text with more witnesses wins, not the one with more lines', () => {
    const a = { ...held(8n, [line('w2.example', 2), line('w2.example', 3, true)]), text: 'a\n' };
    const b = { ...held(8n, [line('w1.example', 1), line('w3.example', 4)]), text: 'b\n' };
    expect(pickCheckpoint([a, b], 0, witnessOf)?.text).toBe('b\n');
    expect(pickCheckpoint([b, a], 0, witnessOf)?.text).toBe('b\n');
  });

  const apps: ReturnType<typeof Fastify>[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
  });

  it('GET checkpoint.2?pq=1 over HTTP uses the source grouping', async () => {
    const app = Fastify();
    apps.push(app);
    registerDistributorRoutes(app, { origins: () => ['example.com/log'], witnesses: () => [], witnessOf, held: async () => [dualOnly, twoWitnesses] });
    const get = async (path: string) => {
      const r = await app.inject({ method: 'GET', url: `/distributor/v0/logs/${distributorLogId('example.com/log')}/${path}` });
      return { status: r.statusCode, size: r.body.split('\n')[1] };
    };
    expect(await get('checkpoint.2?pq=1')).toEqual({ status: 200, size: '8' });
    expect(await get('checkpoint.1?pq=1')).toEqual({ status: 200, size: '9' });
    expect((await get('checkpoint.3?pq=1')).status).toBe(404);
  });
});
