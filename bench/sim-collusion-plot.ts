// The docs' false-accept curve: two collusion sweeps (fast and slow detection) on one chart with
// the c = 2k − n line marked. Run after the two sweeps of docs/simulator.md:
//   node --import tsx bench/sim-collusion-plot.ts docs/sim/colluding docs/sim/colluding-slow docs/sim/false-accepts-vs-colluding.svg
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { SweepResult } from '../src/sim/result.js';
import type { Scenario } from '../src/sim/scenario.js';
import { renderSvg, xySpec, type XYPoint } from '../src/sim/report/charts.js';
import { rerunCommand } from '../src/sim/report/index.js';

const [fastDir, slowDir, out] = process.argv.slice(2);
if (!out) throw new Error('usage: sim-collusion-plot.ts FAST_SWEEP_DIR SLOW_SWEEP_DIR OUT.svg');
// docs/sim keeps result.json gzipped (result.json.gz); either is read.
const load = (d: string) => JSON.parse(existsSync(join(d, 'result.json')) ? readFileSync(join(d, 'result.json'), 'utf8') : gunzipSync(readFileSync(join(d, 'result.json.gz'))).toString('utf8')) as SweepResult;
const fast = load(fastDir);
const slow = load(slowDir);
const series = (r: SweepResult, metric: string, name: string): XYPoint[] =>
  r.points.map((p) => ({ x: p.value, mean: p.summary[metric]?.mean ?? NaN, lo: p.summary[metric]?.lo ?? NaN, hi: p.summary[metric]?.hi ?? NaN, series: name }));
const { k, n } = (fast.provenance.scenario as Scenario).clients.policy;
const title = `False accepts vs colluding witnesses (k=${k}, n=${n}; mean, 95% CI over ${fast.provenance.seeds.length} seeds)`;
const svg = await renderSvg(
  xySpec(
    [
      ...series(fast, 'falseAcceptRate', 'false accepts, fast detection'),
      ...series(slow, 'falseAcceptRate', 'false accepts, slow detection'),
      ...series(slow, 'forkedAcceptRate', 'accepted branch B, slow detection'),
    ],
    { title, x: 'colluding witnesses c (clients trust every colluder first)', y: 'fraction of clients', yDomain: [0, 1], rule: { x: 2 * k - n, label: `c = 2k − n = ${2 * k - n}` } },
  ),
  {
    title,
    desc: `${title}. Fast: ${rerunCommand(fast)} (gossip-witness ${fast.provenance.version}, commit ${fast.provenance.commit ?? 'unknown'}, seeds ${fast.provenance.seeds.join(',')}). Slow: ${rerunCommand(slow)} (seeds ${slow.provenance.seeds.join(',')}).`,
  },
);
writeFileSync(out, svg);
console.log(`wrote ${out}`);
