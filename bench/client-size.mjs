// Size of @gossip-witness/client in a browser: its two self-contained bundles (esbuild, minified),
// gzipped at level 9, against the budgets of issue 16 (40 KB with Ed25519 only, 80 KB with ML-DSA).
//   node bench/client-size.mjs        (builds packages/client first; exits 1 when over budget)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'packages/client/dist');
execFileSync(process.execPath, [join(root, 'packages/client/build.mjs')], { stdio: 'inherit' });

const KB = 1024;
const rows = [
  ['client.ed25519.bundle.js', 'Ed25519 only (ML-DSA-44 and ECDSA P-256 stubbed out)', 40 * KB],
  ['client.bundle.js', 'everything: Ed25519, ECDSA P-256, ML-DSA-44', 80 * KB],
];
let over = 0;
console.log('| bundle | contents | minified | minified + gzip -9 | budget |');
console.log('|---|---|---:|---:|---:|');
for (const [file, what, budget] of rows) {
  const bytes = readFileSync(join(dist, file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  if (gz > budget) over++;
  console.log(`| ${file} | ${what} | ${(bytes.length / KB).toFixed(1)} KB | ${(gz / KB).toFixed(1)} KB | ${budget / KB} KB${gz > budget ? ' **over**' : ''} |`);
}
process.exitCode = over === 0 ? 0 : 1;
