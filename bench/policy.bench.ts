// Client verification throughput: a checkpoint against a 4-of-8 policy with one 2-of-3 group
// (4 of: w0 w1 w2 w3 w4 and the group "2 of w5 w6 w7"), plus an inclusion proof, on one core
// (the main thread; every verify is synchronous), per crypto backend.
// Run: node --import tsx bench/policy.bench.ts
// Prints one markdown table row per case: | benchmark | backend | ops/s | µs/op | Ed25519 verifies/op |
import '../src/polyfill.js';
import { setCryptoBackend, type CryptoBackend } from '../src/crypto/index.js';
import { nodeBackend } from '../src/crypto/node.js';
import { nobleBackend } from '../src/crypto/noble.js';
import { cosigner, generateKey, parseNote, signNote, signatureLines } from '../src/note/index.js';
import { formatCheckpoint } from '../src/checkpoint/index.js';
import { MemoryTree } from '../src/merkle/index.js';
import { parsePolicy, verifyEntryInclusion, type InclusionProof, type VerifyOptions } from '../src/policy/index.js';

const LEAVES = 131_077; // a proof of 18 hashes
const INDEX = 98_765n;
const ORIGIN = 'bench.example/log';

setCryptoBackend(nodeBackend);
const logKey = generateKey(ORIGIN);
const witnesses = Array.from({ length: 8 }, (_, i) => generateKey(`witness${i}.bench.example`));
const policy = parsePolicy(
  [
    `log ${logKey.vkey}`,
    ...witnesses.map((w, i) => `witness w${i} ${w.vkey}`),
    'group three 2 w5 w6 w7',
    'group quorum 4 w0 w1 w2 w3 w4 three',
    'quorum quorum',
  ].join('\n'),
);
const tree = new MemoryTree();
const entryOf = (i: number) => new TextEncoder().encode(`entry ${i}`);
for (let i = 0; i < LEAVES; i++) tree.append(entryOf(i));
const size = BigInt(LEAVES);
const text = formatCheckpoint({ origin: ORIGIN, size, root: tree.root() });
const logSigned = signNote(text, [logKey]);
const cosign = (which: number[]) =>
  logSigned + signatureLines(parseNote(logSigned).textBytes, which.map((i) => cosigner(witnesses[i], () => 1_700_000_000n + BigInt(i))));
const proof: InclusionProof = { leafIndex: INDEX, treeSize: size, hashes: tree.inclusionProof(INDEX, size) };
const entry = { entry: entryOf(Number(INDEX)) };

const cases: { name: string; note: string; opts: VerifyOptions }[] = [
  { name: 'all 8 cosigned, stop at quorum', note: cosign([0, 1, 2, 3, 4, 5, 6, 7]), opts: {} },
  { name: 'all 8 cosigned, exhaustive', note: cosign([0, 1, 2, 3, 4, 5, 6, 7]), opts: { exhaustive: true } },
  { name: 'w0 w1 w2 + w5 w7 (group needed)', note: cosign([0, 1, 2, 5, 7]), opts: {} },
  { name: 'w0 w1 w2 w5 (fails: 3 of 4)', note: cosign([0, 1, 2, 5]), opts: {} },
];

function counting(b: CryptoBackend): { backend: CryptoBackend; calls: () => number } {
  let n = 0;
  return {
    backend: { ...b, ed25519Verify: (p, m, s) => (n++, b.ed25519Verify(p, m, s)) },
    calls: () => n,
  };
}

function bench(fn: () => void, minMs = 1500): { opsPerSec: number; usPerOp: number } {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 50; i++) fn();
    ops += 50;
    now = performance.now();
  }
  const secs = (now - start) / 1000;
  return { opsPerSec: ops / secs, usPerOp: (secs * 1e6) / ops };
}

console.log(`4-of-8 policy with a 2-of-3 group + inclusion proof (${proof.hashes.length} hashes, tree of ${LEAVES}), one core, Node ${process.version}`);
console.log('| benchmark | backend | ops/s | µs/op | Ed25519 verifies/op |');
console.log('|---|---|---:|---:|---:|');
for (const backend of [nodeBackend, nobleBackend]) {
  for (const c of cases) {
    const counter = counting(backend);
    setCryptoBackend(counter.backend);
    const first = verifyEntryInclusion(c.note, policy, entry, proof, c.opts);
    const verifies = counter.calls();
    const expectOk = !c.name.includes('fails');
    if (first.ok !== expectOk) throw new Error(`${c.name}: unexpected verdict: ${first.reason}`);
    setCryptoBackend(backend);
    const r = bench(() => {
      verifyEntryInclusion(c.note, policy, entry, proof, c.opts);
    }, backend === nobleBackend ? 2500 : 1500);
    console.log(`| policy: ${c.name} | ${backend.name} | ${r.opsPerSec.toFixed(0)} | ${r.usPerOp.toFixed(1)} | ${verifies} |`);
  }
}
