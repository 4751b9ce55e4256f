// The distributor reads (src/http/distributor.ts) on transparency-dev/distributor's paths: every
// node answers with the cosignatures it holds, from its store and its gossip view.
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { Net, push, waitFor } from './helpers.js';
import { parseNote } from '../../src/note/index.js';
import { distributorLogId } from '../../src/http/distributor.js';

let net: Net | undefined;
afterEach(async () => {
  await net?.stop();
  net = undefined;
});

describe('distributor reads', () => {
  it('checkpoint and checkpoint.N: the largest checkpoint with every (or at least N) cosignatures', async () => {
    const log = new TestLog('example.com/distributor').append(5);
    net = await Net.start(3, { logs: [{ origin: log.origin, vkey: log.key.vkey }] });
    await net.ready();
    const id = distributorLogId(log.origin);
    const base = net.nodes[2].node.url;
    const get = async (path: string) => {
      const r = await fetch(`${base}/distributor/v0${path}`);
      return { status: r.status, body: await r.text() };
    };
    expect(JSON.parse((await get('/logs')).body)).toEqual([id]);
    expect(JSON.parse((await get('/witnesses')).body)).toHaveLength(3);
    expect((await get(`/logs/${id}/checkpoint`)).status).toBe(404); // nothing held yet
    for (const n of net.nodes) await push(n.node, log);
    await waitFor(async () => (await get(`/logs/${id}/checkpoint.3`)).status === 200, 'three cosignatures at node 2');
    const full = parseNote((await get(`/logs/${id}/checkpoint`)).body);
    expect(full.signatures).toHaveLength(4); // the log + 3 witnesses
    expect(full.text.split('\n')[1]).toBe('5');
    // A larger checkpoint cosigned by node 0 only: checkpoint.1 moves, checkpoint.3 stays.
    log.append(2);
    await push(net.nodes[0].node, log);
    await waitFor(async () => parseNote((await get(`/logs/${id}/checkpoint.1`)).body).text.split('\n')[1] === '7', 'size 7 with one cosignature');
    expect(parseNote((await get(`/logs/${id}/checkpoint.3`)).body).text.split('\n')[1]).toBe('5');
    expect((await get(`/logs/${id}/checkpoint.4`)).status).toBe(404);
    expect((await get(`/logs/${'0'.repeat(64)}/checkpoint`)).status).toBe(404);
    expect((await get(`/logs/${id}/checkpoint.x`)).status).toBe(404);
  });
});
