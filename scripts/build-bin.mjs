// Bundles the CLI (dist/src/cli/main.js, compiled by tsc) into dist/bin/ for the installed
// `gossip-witness` command: one minified ESM graph with a chunk per lazily loaded command, instead
// of about 170 modules (95 of them the validation library of the time). Measured idle RSS of `serve`
// after a full GC: 74 -> 68 MiB (bench/results/witness-http.md, "Bundled CLI"). Same code as
// dist/src: only the packaging differs, and two builtins that bundled packages require but serve
// never uses load on first use (LAZY_BUILTINS).
//
// Kept outside the bundle: native addons and packages that load files at run time (classic-level,
// pino and its worker transports), libp2p (loaded only for a `p2p:` config), pg, and the tools
// package. Every bundled `import.meta.url` is replaced by the URL of the module it came from, so
// createRequire(import.meta.url) and new URL('./x', import.meta.url) resolve exactly as in dist/src.
import { build } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'dist', 'src');
const OUT = join(ROOT, 'dist', 'bin');

const EXTERNAL = [
  'classic-level', 'pino', 'pg', 'pg-*', 'libp2p', '@libp2p/*', '@chainsafe/*', '@multiformats/*',
  'multiformats', 'uint8arrays', '@gossip-witness/tools',
  // fastify requires these only when used: schema compilers (src/http/server.ts gives its own
  // factories, so never) and inject (tests). Outside the bundle, their source is not even loaded.
  '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'light-my-request',
];

/**
 * Builtins that bundled CommonJS code requires at load time but a witness never uses: fastify's
 * lib/server.js takes https and http2 only for its `https:` and `http2:` options (serve gives
 * neither), prom-client's Pushgateway (never used) takes https, and https pulls in tls. On Node 24
 * and 26 that is about 2.5 MiB of serve's idle RSS (issue 14; BENCHMARKS.md, "Idle RSS on Node
 * 20, 24, 26"). Here each such require() gets a stand-in that loads the real module on first use
 * (any property read), so the code behaves the same, only later. ESM imports are left as they are.
 */
const LAZY_BUILTINS = ['https', 'http2'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (args) => {
      if (args.namespace === 'lazy-builtin') return { path: args.path, external: true };
      if (args.kind !== 'require-call') return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ loader: 'js', contents: standIn(`require(${JSON.stringify('node:' + args.path)})`) }));
  },
};

/**
 * A module whose exports load the real module (`load`, a require() expression) on first use: any
 * property read, call or key listing. The target is an arrow function so that a module exporting
 * a function (safe-regex2) stays callable.
 */
function standIn(load) {
  return `let m;
const real = () => (m ??= ${load});
module.exports = new Proxy(() => {}, {
  apply: (_, self, args) => Reflect.apply(real(), self, args),
  get: (_, k) => real()[k],
  has: (_, k) => k in real(),
  ownKeys: () => Reflect.ownKeys(real()),
  getOwnPropertyDescriptor: (_, k) => { const d = Reflect.getOwnPropertyDescriptor(real(), k); if (d) d.configurable = true; return d; },
});
`;
}

/**
 * Bundled packages that others require at load time for paths a witness rarely or never takes,
 * evaluated on first use instead (still bundled): fastify's plugin version checks (semver),
 * prom-client's exemplars (@opentelemetry/api: serve enables none) and find-my-way's check of
 * regular-expression routes (safe-regex2, with its regex parser ret: serve has none). On Node 26
 * that is about 0.5 MiB of idle heap (issue 14's <= 64 MiB).
 */
const LAZY_PACKAGES = ['semver', '@opentelemetry/api', 'safe-regex2'];
const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    const filter = new RegExp(`^(${LAZY_PACKAGES.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, async (args) => {
      if (args.kind !== 'require-call' || args.pluginData?.real) return undefined;
      const real = await b.resolve(args.path, { kind: 'require-call', resolveDir: args.resolveDir, importer: args.importer, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-package' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({ loader: 'js', resolveDir: dirname(args.path), contents: standIn(`require(${JSON.stringify(args.path)})`) }));
  },
};

/**
 * prom-client's Pushgateway (a client for a push server; a witness is scraped, never pushes)
 * destructures zlib's gzipSync when its module loads, and zlib costs about 2.6 MiB of idle RSS on
 * Node 26 (issue 14). The bundle gets a stand-in class that says so if anything ever uses it.
 */
const noPushgateway = {
  name: 'no-pushgateway',
  setup(b) {
    b.onLoad({ filter: /[\\/]prom-client[\\/]lib[\\/]pushgateway\.js$/ }, () => ({
      loader: 'js',
      contents: `module.exports = class Pushgateway {
  constructor() { throw new Error('gossip-witness: prom-client Pushgateway is left out of the bundle (scripts/build-bin.mjs)'); }
};
`,
    }));
  },
};

/** The tools commands stay outside: the node package ships without them (see src/cli/tools.ts). */
const TOOL_FILES = new Set(['./simulate.js', './launch.js']);

const originalUrls = {
  name: 'original-import-meta-url',
  setup(b) {
    b.onResolve({ filter: /^\.\/(simulate|launch)\.js$/ }, (args) => {
      if (!TOOL_FILES.has(args.path) || !args.importer.startsWith(join(SRC, 'cli') + sep)) return undefined;
      const target = join(dirname(args.importer), args.path);
      return { path: './' + relative(OUT, target).split(sep).join('/'), external: true };
    });
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(SRC + sep)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'js' };
      const rel = relative(OUT, args.path).split(sep).join('/');
      const url = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

await rm(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: join(SRC, 'cli', 'main.js') },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Identifiers are minified too, so class and function names are not kept (keepNames would cost
  // 1.2 MiB of heap in __name() calls): error classes set their name explicitly.
  minify: true,
  // No source maps: they would add 6 MB to the package; dist/src holds the same code unminified
  // (`node dist/src/cli/main.js` for readable stack traces).
  sourcemap: false,
  external: EXTERNAL,
  plugins: [originalUrls, lazyBuiltins, lazyPackages, noPushgateway],
  // Bundled CommonJS packages (fastify, prom-client, ...) call require() for Node's builtins.
  banner: { js: "import { createRequire as __gwRequire } from 'node:module'; const require = __gwRequire(import.meta.url);" },
  logLevel: 'warning',
  metafile: process.env.GW_BIN_METAFILE !== undefined,
});
// GW_BIN_METAFILE=FILE writes esbuild's metafile (which input went into which chunk, in bytes).
if (process.env.GW_BIN_METAFILE) await writeFile(process.env.GW_BIN_METAFILE, JSON.stringify(result.metafile));
