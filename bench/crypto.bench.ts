// Per crypto backend: Ed25519 sign and verify (sync and async), cosign, note verify. `node` uses libsodium
// for Ed25519 where sodium-native loads (its async verify is inline), `node-crypto` node:crypto only.
// Run: node --import tsx bench/crypto.bench.ts [--ms N]   (N: milliseconds per cell, default 1500)
// Prints markdown table rows: | benchmark | backend | ops/s | µs/op |
import '../src/polyfill.js';
import { setCryptoBackend, type CryptoBackend } from '../src/crypto/index.js';
import { nodeBackend, nodeCryptoBackend } from '../src/crypto/node.js';
import { nobleBackend } from '../src/crypto/noble.js';
import { ed25519KeyFromSeed, cosigner, signNote, openNote, parseVkey, parseCosignatureVkey } from '../src/note/index.js';
import { formatCheckpoint } from '../src/checkpoint/checkpoint.js';

const msArg = process.argv.indexOf('--ms');
const CELL_MS = msArg >= 0 ? Number(process.argv[msArg + 1]) : 1500;

function bench(fn: () => void, minMs = CELL_MS): number {
  for (let i = 0; i < 200; i++) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 50; i++) fn();
    ops += 50;
    now = performance.now();
  }
  return ops / ((now - start) / 1000);
}

async function benchAsync(fn: () => Promise<unknown>, concurrency: number, minMs = CELL_MS): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < minMs) {
      await fn();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ops / ((performance.now() - start) / 1000);
}

const row = (name: string, b: CryptoBackend, ops: number) =>
  console.log(`| ${name} | ${b.name} | ${Math.round(ops).toLocaleString('en-US')} | ${(1e6 / ops).toFixed(1)} |`);

const seed = new Uint8Array(32).fill(42);
const msg = new TextEncoder().encode('example.com/log\n123456789\n' + 'A'.repeat(43) + '=\n');
const logKey = ed25519KeyFromSeed('example.com/log', seed);
const witnessKey = ed25519KeyFromSeed('witness.example/w1', new Uint8Array(32).fill(7));
const text = formatCheckpoint({ origin: 'example.com/log', size: 123456789n, root: new Uint8Array(32).fill(3) });
const cosigned = signNote(text, [logKey, cosigner(witnessKey)]);
const verifiers = [parseVkey(logKey.vkey), parseCosignatureVkey(witnessKey.vkey)];

console.log('| benchmark | backend | ops/s | µs/op |');
console.log('|---|---|---|---|');
for (const b of [nodeBackend, nodeCryptoBackend, nobleBackend]) {
  setCryptoBackend(b);
  const pub = b.ed25519PublicKey(seed);
  const sig = b.ed25519Sign(seed, msg);
  row('Ed25519 sign', b, bench(() => b.ed25519Sign(seed, msg)));
  row('Ed25519 verify', b, bench(() => b.ed25519Verify(pub, msg, sig)));
  row('Ed25519 verify, async (8 in flight)', b, await benchAsync(() => b.ed25519VerifyAsync(pub, msg, sig), 8));
  const c = cosigner(witnessKey);
  const textBytes = new TextEncoder().encode(text);
  row('cosign (cosignature/v1 line)', b, bench(() => c.sign(textBytes)));
  row('note verify (log Ed25519 + 1 cosignature)', b, bench(() => openNote(cosigned, verifiers)));
}
setCryptoBackend(nodeBackend);
