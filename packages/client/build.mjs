// Builds @gossip-witness/client from the repository's own sources (src/policy/index.ts and what it
// imports), so that the witness node and the client share one format core. Outputs in dist/:
//   index.js / index.cjs        portable (noble crypto), @noble/* left as dependencies
//   node.js / node.cjs          the `node` condition: node:crypto backends (src/crypto/node.ts, mldsa-node.ts)
//   browser.js                  the `browser` condition (for bundlers), @noble/* left as dependencies
//   client.bundle.js            one self-contained minified ES module for a <script type="module">
//   client.ed25519.bundle.js    the same without ML-DSA-44 and ECDSA P-256 (such signatures never verify): smaller
//   index.d.ts / index.d.cts    types rolled up by api-extractor (needs the root's tsc output, dist/src)
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const out = join(here, 'dist');
const portable = join(root, 'src/policy/index.ts');
const nodeEntry = join(here, 'src/node.ts');
const common = { bundle: true, target: 'es2022', logLevel: 'warning', legalComments: 'none' };
const external = ['@noble/*'];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Ed25519 only: ML-DSA-44 (@noble/post-quantum) and ECDSA P-256 (@noble/curves/nist.js, Rekor v1
// checkpoints) replaced by stubs whose verify always fails.
const ed25519Only = {
  name: 'ed25519-only',
  setup(b) {
    b.onResolve({ filter: /^@noble\/post-quantum\// }, () => ({ path: join(here, 'src/mldsa-stub.ts') }));
    b.onResolve({ filter: /^@noble\/curves\/nist\.js$/ }, () => ({ path: join(here, 'src/p256-stub.ts') }));
  },
};

await Promise.all([
  build({ ...common, entryPoints: [portable], platform: 'neutral', format: 'esm', external, outfile: join(out, 'index.js') }),
  build({ ...common, entryPoints: [portable], platform: 'neutral', format: 'cjs', external, outfile: join(out, 'index.cjs') }),
  build({ ...common, entryPoints: [nodeEntry], platform: 'node', format: 'esm', external, outfile: join(out, 'node.js') }),
  build({ ...common, entryPoints: [nodeEntry], platform: 'node', format: 'cjs', external, outfile: join(out, 'node.cjs') }),
  build({ ...common, entryPoints: [portable], platform: 'browser', format: 'esm', external, outfile: join(out, 'browser.js') }),
  build({ ...common, entryPoints: [portable], platform: 'browser', format: 'esm', minify: true, outfile: join(out, 'client.bundle.js') }),
  build({ ...common, entryPoints: [portable], platform: 'browser', format: 'esm', minify: true, plugins: [ed25519Only], outfile: join(out, 'client.ed25519.bundle.js') }),
]);

// Types: api-extractor rolls the root's declarations (dist/src/policy/index.d.ts) into one file and
// `npm run api:check` compares the API report (etc/client.api.md) and fails when it is stale.
if (!existsSync(join(root, 'dist/src/policy/index.d.ts'))) {
  throw new Error('dist/src/policy/index.d.ts is missing: run `npm run build` at the repository root first');
}
const { Extractor, ExtractorConfig } = await import('@microsoft/api-extractor');
// The build only rolls up types; the report is compared by api:check and rewritten by api:update.
const configFile = join(here, 'api-extractor.json');
const configObject = ExtractorConfig.loadFile(configFile);
configObject.apiReport = { ...configObject.apiReport, enabled: false };
const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: configFile, packageJsonFullPath: join(here, 'package.json') });
const result = Extractor.invoke(config, { localBuild: true, showVerboseMessages: false });
if (!result.succeeded) throw new Error(`api-extractor: ${result.errorCount} errors, ${result.warningCount} warnings`);
copyFileSync(join(out, 'index.d.ts'), join(out, 'index.d.cts'));
rmSync(join(out, 'api-temp'), { recursive: true, force: true });
