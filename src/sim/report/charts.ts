// Charts of the simulator's reports: Vega-Lite specs compiled and rendered to SVG by Vega, headless
// (renderer 'none' + toSVG: no canvas or browser). Every SVG gets a <title> and a <desc> carrying
// the provenance (scenario, seeds, version, commit), so a plot found alone can be reproduced.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface CdfSeries {
  readonly name: string;
  /** Per-node detection times in ms; null = never detected (counts in the denominator). */
  readonly times: readonly (number | null)[];
}

export interface XYPoint {
  readonly x: number;
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  /** Series name (one line per series). */
  readonly series?: string;
}

export interface ChartText {
  readonly title: string;
  /** Provenance and what the chart shows (goes into <desc>). */
  readonly desc: string;
}

const WIDTH = 520;
/** Most steps drawn per CDF curve, and most steps for which each gets a point. */
const MAX_STEPS = 300;
const MAX_POINTS = 120;
const HEIGHT = 320;

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Renders a Vega-Lite spec to an SVG string with <title>/<desc>. */
export async function renderSvg(spec: TopLevelSpec, text: ChartText): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // Vega has no <title>/<desc> option; they go first inside the root element (SVG 1.1 §5.4).
    const open = svg.indexOf('>', svg.indexOf('<svg')) + 1;
    return `${svg.slice(0, open)}<title>${escapeXml(text.title)}</title><desc>${escapeXml(text.desc)}</desc>${svg.slice(open)}`;
  } finally {
    view.finalize();
  }
}

/**
 * Step CDF of times (seconds on x), one curve per series, with a point per distinct time (few of
 * them) or thinned (many). Defaults: detection times of honest nodes; axes names the quantity and
 * the population (e.g. clients' time to accept).
 */
export function cdfSpec(series: readonly CdfSeries[], title: string, axes: { x?: string; y?: string } = {}): TopLevelSpec {
  const values: { series: string; t: number; p: number; order: number }[] = [];
  let most = 0;
  for (const s of series) {
    const total = s.times.length;
    const xs = s.times.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
    const steps: { t: number; p: number }[] = [];
    for (let i = 0; i < xs.length; i++) if (i + 1 === xs.length || xs[i + 1] !== xs[i]) steps.push({ t: xs[i] / 1000, p: (i + 1) / total });
    // Thousands of steps (large networks, pooled seeds) would make a multi-MB SVG: keep every k-th and the last.
    const k = Math.ceil(steps.length / MAX_STEPS);
    const kept = k <= 1 ? steps : steps.filter((_, i) => i % k === k - 1 || i === steps.length - 1);
    most = Math.max(most, kept.length);
    let order = 0;
    values.push({ series: s.name, t: 0, p: 0, order: order++ });
    for (const x of kept) values.push({ series: s.name, ...x, order: order++ });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    // A point per step while they can be told apart.
    mark: { type: 'line', interpolate: 'step-after', point: most <= MAX_POINTS },
    encoding: {
      x: { field: 't', type: 'quantitative', title: axes.x ?? 'time from fork to detection (s)' },
      y: { field: 'p', type: 'quantitative', title: axes.y ?? 'fraction of honest nodes with evidence', scale: { domain: [0, 1] } },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { labelLimit: 400 } },
      order: { field: 'order', type: 'quantitative' },
    },
  } as TopLevelSpec;
}

/**
 * Mean of a metric vs a parameter, with 95% CI error bars (a rule from lo to hi per point), one
 * line per series. `rule` adds a vertical marker (e.g. the c = 2k − n quorum line) with a label.
 */
export function xySpec(points: readonly XYPoint[], o: { title: string; x: string; y: string; rule?: { x: number; label: string }; yDomain?: [number, number]; logX?: boolean }): TopLevelSpec {
  const values = points.filter((p) => Number.isFinite(p.mean)).map((p) => ({ ...p, series: p.series ?? o.y }));
  const xEnc = { field: 'x', type: 'quantitative', title: o.x, ...(o.logX ? { scale: { type: 'log' } } : {}) };
  const yScale = o.yDomain ? { domain: o.yDomain } : { zero: true };
  const layers: object[] = [
    { mark: { type: 'line', point: true }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', title: o.y, scale: yScale }, color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { labelLimit: 400, orient: 'bottom', direction: 'vertical' } } } },
    { mark: { type: 'rule' }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal', title: null, sort: null } } },
  ];
  if (o.rule) {
    layers.push({
      data: { values: [{ x: o.rule.x, label: o.rule.label }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [6, 4], color: '#333' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
        { mark: { type: 'text', align: 'left', dx: 4, dy: -4, color: '#333' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { value: 10 }, text: { field: 'label' } } },
      ],
    });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: o.title, width: WIDTH, height: HEIGHT, data: { values }, layer: layers } as TopLevelSpec;
}

export interface TradeoffPoint {
  /** The swept value that labels the point (e.g. the exchange tick in ms). */
  readonly label: string;
  /** Position along the sweep (the line joins points in this order). */
  readonly order: number;
  readonly x: number;
  readonly xLo: number;
  readonly xHi: number;
  readonly y: number;
  readonly yLo: number;
  readonly yHi: number;
  readonly series: string;
}

/**
 * One metric against another as a parameter varies (a trade-off curve): a point per value with
 * 95% CI bars on both axes, joined in sweep order and labelled with the value.
 */
export function tradeoffSpec(points: readonly TradeoffPoint[], o: { title: string; x: string; y: string }): TopLevelSpec {
  const values = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const color = { field: 'series', type: 'nominal', title: null, sort: null, legend: { labelLimit: 400, orient: 'bottom', direction: 'vertical' } };
  const x = { field: 'x', type: 'quantitative', title: o.x, scale: { zero: true } };
  const y = { field: 'y', type: 'quantitative', title: o.y, scale: { zero: true } };
  const layers: object[] = [
    { mark: { type: 'line', point: true }, encoding: { x, y, order: { field: 'order', type: 'quantitative' }, color } },
    { mark: { type: 'rule' }, encoding: { x: { field: 'xLo', type: 'quantitative' }, x2: { field: 'xHi' }, y: { field: 'y', type: 'quantitative' }, color } },
    { mark: { type: 'rule' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'yLo', type: 'quantitative' }, y2: { field: 'yHi' }, color } },
    { mark: { type: 'text', align: 'left', dx: 5, dy: -6, fontSize: 10 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'label' }, color } },
  ];
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: o.title, width: WIDTH, height: HEIGHT, data: { values }, layer: layers } as TopLevelSpec;
}
