// Per-delivery validation cost of one gossip node, without libp2p:
// `node --import tsx bench/gossip-validate.bench.ts`
// A checkpoint cosigned by 20 witnesses arrives as 20 messages (witness k's message carries
// cosignatures 1..k, as merged publication does). Measures Ed25519 verify, and
// parseCheckpointMessage with a fresh VerifiedLines cache per checkpoint text (the node's real
// situation: each line verified once) against no cache (every line of every message verified).
import '../src/platform.js';
import { generateKey, cosigner, parseVkey, parseCosignatureVkey, VerifierSet, signatureLines, signNote } from '../src/note/index.js';
import { formatCheckpoint } from '../src/checkpoint/checkpoint.js';
import { parseCheckpointMessage, VerifiedLines, type Trust } from '../src/gossip/wire.js';
import { utf8 } from '../src/util/bytes.js';

const W = 20;
const logKey = generateKey('bench.example/log');
const wits = Array.from({ length: W }, (_, i) => generateKey(`w${i}.bench`));
const trust: Trust = {
  logKeys: (o) => (o === 'bench.example/log' ? new VerifierSet([parseVkey(logKey.vkey)]) : undefined),
  witnessKeys: new VerifierSet(wits.map((w) => parseCosignatureVkey(w.cosignatureVkey))),
};
function messages(size: number): Uint8Array[] {
  const text = formatCheckpoint({ origin: 'bench.example/log', size: BigInt(size), root: new Uint8Array(32).fill(size & 255), extensions: [] });
  const note = signNote(text, [logKey]);
  const lines = wits.map((w) => signatureLines(utf8(text), [cosigner(w)]));
  return wits.map((_, k) => utf8(note + lines.slice(0, k + 1).join('')));
}
const T = 200; // checkpoint texts
const sets = Array.from({ length: T }, (_, i) => messages(1000 + i));
const deliveries = T * W;

function run(label: string, cache: boolean): number {
  const t0 = process.hrtime.bigint();
  for (const msgs of sets) {
    const c = cache ? new VerifiedLines() : undefined;
    for (const m of msgs) {
      const r = parseCheckpointMessage(m, trust, c);
      if (!r.ok) throw new Error(r.reason);
    }
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / deliveries;
  console.log(`${label.padEnd(60)} ${us.toFixed(1)} µs per delivered message`);
  return us;
}
// Ed25519 verify, node:crypto
{
  const k = generateKey('x.bench');
  const v = parseVkey(k.vkey);
  const textStr = 'x.bench/text\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
  const line = signNote(textStr, [k]).split('\n\n')[1];
  const b = Buffer.from(line.split(' ')[2], 'base64').subarray(4); // drop the 4-byte key ID
  const text = utf8(textStr);
  const N = 5000;
  if (!v.verify(text, b)) throw new Error('verify failed');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) v.verify(text, b);
  console.log(`${'Ed25519 verify (node:crypto)'.padEnd(60)} ${(Number(process.hrtime.bigint() - t0) / 1000 / N).toFixed(1)} µs`);
}
run('warm-up', true);
run('parse+verify, VerifiedLines per text (what a node does)', true);
run('parse+verify, no cache (every line verified)', false);
console.log(`verifies per delivery: with the cache ${((W + 1) / W).toFixed(2)}, without ${((W + 3) / 2).toFixed(1)} (message k carries the log line and k cosignatures)`);
