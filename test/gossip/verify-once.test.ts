// Issue 15: "each signature verified at most once per node". What a node's own witness core
// stores (the log lines it verified, the cosignature it signed) is not verified again when the
// gossip layer reads the state back to offer it; the other node verifies each line once.
// Both nodes share this process, so the counts are the two nodes' together.
import { afterEach, describe, expect, it } from 'vitest';
import { cryptoBackend, setCryptoBackend } from '../../src/crypto/index.js';
import { countEd25519Verifications } from '../helpers/count-verify.js';
import { parseNote } from '../../src/note/note.js';
import { utf8 } from '../../src/util/bytes.js';
import { TestLog } from '../helpers/fork.js';
import { Net, push, waitFor } from './helpers.js';

let net: Net | undefined;
const inner = cryptoBackend();
afterEach(async () => {
  await net?.stop();
  net = undefined;
  setCryptoBackend(inner);
});

describe('each signature verified at most once per node', () => {
  it('a checkpoint cosigned by one node: its log line verified once by each node, its cosignature only by the other', async () => {
    const { verified } = countEd25519Verifications();

    const log = new TestLog('example.com/verify-once').append(5);
    net = await Net.start(2, { logs: [{ origin: log.origin, vkey: log.key.vkey }], version: () => 2 });
    await net.ready();
    const [a, b] = net.nodes;
    verified.length = 0;
    expect(await push(a.node, log)).toBe('cosigned');
    await waitFor(() => b.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 1, 'node 1 holds node 0 cosignature');
    const stored = (await a.node.store.getState(log.origin))!;
    const lines = parseNote(utf8(stored.cosigned)).signatures;
    // The Ed25519 signature is the last 64 bytes of a line (after the key ID, and a cosignature's timestamp).
  const raw = (b64: string) => Buffer.from(b64, 'base64').subarray(-64).toString('base64');
    const logLine = raw(lines.find((l) => l.name === log.origin)!.base64);
    const ownLine = raw(lines.find((l) => l.name === a.key.name)!.base64);
    await waitFor(() => verified.filter((s) => s === ownLine).length >= 1, 'node 1 verified the cosignature');
    // Node 0's core verified the log line; node 1's gossip verified it (the checkpoint item comes
    // before its cosignatures) and the cosignature. Node 0's gossip read its own state back: nothing.
    expect(verified.filter((s) => s === logLine).length).toBe(2);
    expect(verified.filter((s) => s === ownLine).length).toBe(1);
  });
});
