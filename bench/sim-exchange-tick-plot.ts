// Gossip version 2's trade-off as its coalescing interval (the exchange tick) varies: traffic per
// node against detection latency, one point per tick, from the sweep of docs/simulator.md:
//   gossip-witness simulate network-config/scenarios/sweep-exchange-tick.yaml \
//     --sweep network.exchangeTickMs=25,50,100,200,400,800 --seeds 5 --out docs/sim/exchange-tick
//   node --import tsx bench/sim-exchange-tick-plot.ts docs/sim/exchange-tick docs/sim/exchange-tick-tradeoff.svg
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { SweepResult } from '../src/sim/result.js';
import { renderSvg, tradeoffSpec, type TradeoffPoint } from '../src/sim/report/charts.js';
import { rerunCommand } from '../src/sim/report/index.js';

const [dir, out] = process.argv.slice(2);
if (!out) throw new Error('usage: sim-exchange-tick-plot.ts SWEEP_DIR OUT.svg');
// docs/sim keeps result.json gzipped (result.json.gz); either is read.
const r = JSON.parse(existsSync(join(dir, 'result.json')) ? readFileSync(join(dir, 'result.json'), 'utf8') : gunzipSync(readFileSync(join(dir, 'result.json.gz'))).toString('utf8')) as SweepResult;
const points: TradeoffPoint[] = [];
for (const [metric, series] of [
  ['detection.firstMs', 'first honest witness holds evidence'],
  ['detection.allMs', 'every honest witness holds evidence'],
] as const) {
  r.points.forEach((p, i) => {
    const d = p.summary[metric];
    const b = p.summary.bytesPerNodePerHour;
    if (!d || !b) return;
    points.push({ label: `${p.value} ms`, order: i, x: d.mean, xLo: d.lo, xHi: d.hi, y: b.mean / 1e6, yLo: b.lo / 1e6, yHi: b.hi / 1e6, series });
  });
}
const title = `Gossip v2: traffic vs detection as the exchange tick varies (mean, 95% CI over ${r.provenance.seeds.length} seeds)`;
const svg = await renderSvg(tradeoffSpec(points, { title, x: 'time from the fork (ms)', y: 'MB per node per hour (sent)' }), {
  title,
  desc: `${title}. ${rerunCommand(r)} (gossip-witness ${r.provenance.version}, commit ${r.provenance.commit ?? 'unknown'}, seeds ${r.provenance.seeds.join(',')}).`,
});
writeFileSync(out, svg);
console.log(`wrote ${out}`);
