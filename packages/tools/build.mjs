// Builds @gossip-witness/tools by bundling the simulator, the launcher and the demo from the
// repository's src/. npm packages stay external (this package's dependencies, or the node
// package's), and every import of the node package's own modules becomes an import of
// gossip-witness/internal/<path>.js, so the shared core is imported, never copied.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const src = join(root, 'src');
const out = join(here, 'dist');

// The sources this package owns (bundled); everything else under src/ belongs to the node package.
const OWNED = ['sim/', 'demo/', 'launcher/', 'cli/simulate.ts', 'cli/launch.ts'];
export function owned(relTs) {
  return OWNED.some((p) => (p.endsWith('/') ? relTs.startsWith(p) : relTs === p));
}

const internal = {
  name: 'gossip-witness-internal',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(src + sep)) return undefined;
      const abs = join(dirname(args.importer), args.path);
      const rel = relative(src, abs).split(sep).join('/');
      if (!rel.endsWith('.js') || rel.startsWith('..')) return undefined;
      const ts = rel.replace(/\.js$/, '.ts');
      if (owned(ts)) return undefined;
      if (!existsSync(join(src, ts))) return { errors: [{ text: `${args.path} from ${args.importer}: no ${ts} in src/` }] };
      return { path: `gossip-witness/internal/${rel}`, external: true };
    });
  },
};

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { index: join(here, 'src/index.ts'), demo: join(src, 'demo/demo.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [internal],
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

// The demo reads network-config/local-network.yaml beside the package root (src/demo/demo.ts).
// (Absent in a build without the repository's network-config/, e.g. the Dockerfile's: then no demo default.)
if (existsSync(join(root, 'network-config/local-network.yaml'))) {
  mkdirSync(join(here, 'network-config'), { recursive: true });
  copyFileSync(join(root, 'network-config/local-network.yaml'), join(here, 'network-config/local-network.yaml'));
}

if (process.argv.includes('--externals')) {
  const ext = new Set();
  for (const o of Object.values(result.metafile.outputs)) for (const i of o.imports) if (i.external) ext.add(i.path);
  console.log([...ext].sort().join('\n'));
}
