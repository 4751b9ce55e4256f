// Cosign / verify throughput per ML-DSA-44 backend (issue 14), with Ed25519 cosignature/v1 beside
// it for scale. Each figure is operations per second over a fixed wall-clock window on this
// runtime; run it with each Node binary to compare (Node 20: noble only; Node >= 24.7: node:crypto too).
//
//   node --import tsx bench/mldsa.bench.ts [--seconds S] [--concurrency C]
//
// cosign = one witness add-checkpoint line: subtree/v1 over [0, size) (key.cosigner().sign/signAsync)
// or cosignature/v1 (Ed25519). verify = the same line verified as a checkpoint cosignature.
// "sync" runs on the calling thread; "async" keeps C calls in flight (noble: worker pool; node:
// the libuv thread pool), which is what the witness does.
import '../src/platform.js';
import { availableParallelism, loadavg } from 'node:os';
import { makeNobleMlDsa44, setMlDsa44Backend, type MlDsa44Backend } from '../src/crypto/mldsa.js';
import { nodeMlDsa44 } from '../src/crypto/mldsa-node.js';
import { makeMlDsa44WorkerPool } from '../src/crypto/mldsa-pool.js';
import { mlDsa44KeyFromSeed } from '../src/note/mldsa-keys.js';
import { cosigner, ed25519KeyFromSeed, parseCosignatureVkey } from '../src/note/index.js';
import { formatCheckpoint } from '../src/checkpoint/checkpoint.js';

function opt(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
const SECONDS = Number(opt('seconds', '3'));
const CONC = Number(opt('concurrency', '8'));

const text = new TextEncoder().encode(formatCheckpoint({ origin: 'bench.example/log', size: 123456789n, root: new Uint8Array(32).fill(9), extensions: [] }));
const clock = () => 1_800_000_000n;

function rate(f: () => void): number {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < end) {
    f();
    n++;
  }
  return n / SECONDS;
}

async function rateAsync(f: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) {
      await f();
      n++;
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  return n / SECONDS;
}

interface Row {
  backend: string;
  cosignSync: number;
  cosignAsync: number;
  verifySync: number;
  verifyAsync: number;
}

async function mldsaRow(name: string, b: MlDsa44Backend): Promise<Row> {
  setMlDsa44Backend(b);
  const key = mlDsa44KeyFromSeed('bench.example/witness', new Uint8Array(32).fill(1));
  const signer = key.cosigner(clock);
  const sig = signer.sign(text);
  const v = parseCosignatureVkey(key.vkey);
  const msgKey = key.publicKey;
  // verifyAsync of the backend on the same message the note layer verifies.
  const { cosignedMessage, checkpointSubtree } = await import('../src/note/sigtypes/mldsa44.js');
  const msg = cosignedMessage(key.name, 1_800_000_000n, checkpointSubtree(text)!);
  await signer.signAsync(text); // warm the pool / key cache
  return {
    backend: name,
    cosignSync: rate(() => signer.sign(text)),
    cosignAsync: await rateAsync(() => signer.signAsync(text)),
    verifySync: rate(() => {
      if (!v.verify(text, sig)) throw new Error('verify failed');
    }),
    verifyAsync: await rateAsync(async () => {
      if (!(await b.verifyAsync(msgKey, msg, sig.subarray(8)))) throw new Error('verify failed');
    }),
  };
}

function ed25519Row(): Row {
  const key = ed25519KeyFromSeed('bench.example/witness', new Uint8Array(32).fill(2));
  const c = cosigner(key, clock);
  const sig = c.sign(text);
  const v = parseCosignatureVkey(key.cosignatureVkey);
  const s = rate(() => c.sign(text));
  const vr = rate(() => {
    if (!v.verify(text, sig)) throw new Error('verify failed');
  });
  return { backend: 'Ed25519 cosignature/v1 (node:crypto)', cosignSync: s, cosignAsync: NaN, verifySync: vr, verifyAsync: NaN };
}

async function main(): Promise<void> {
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  const before = load();
  const rows: Row[] = [];
  rows.push(await mldsaRow('ML-DSA-44 noble (@noble/post-quantum)', makeNobleMlDsa44()));
  const pool = makeMlDsa44WorkerPool();
  rows.push(await mldsaRow(`ML-DSA-44 noble worker pool (${pool.size} worker${pool.size === 1 ? '' : 's'})`, pool));
  await pool.close();
  const native = nodeMlDsa44();
  if (native) rows.push(await mldsaRow('ML-DSA-44 node:crypto', native));
  rows.push(ed25519Row());
  const f = (x: number) => (Number.isNaN(x) ? '—' : Math.round(x).toLocaleString('en-US'));
  console.log(`Node ${process.versions.node} (OpenSSL ${process.versions.openssl}), ${availableParallelism()} cores; ${SECONDS} s per cell, async with ${CONC} in flight; load average before ${before}, after ${load()}`);
  console.log('');
  console.log('| backend | cosign/s (sync) | cosign/s (async) | verify/s (sync) | verify/s (async) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.backend} | ${f(r.cosignSync)} | ${f(r.cosignAsync)} | ${f(r.verifySync)} | ${f(r.verifyAsync)} |`);
}

await main();
